package tributary.failover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.sql.SQLException;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;

import tributary.crypto.RecordCipher;
import tributary.failover.Failures.Kind;

class FailuresTest {

    @Test
    void connectionAndResourceFaultsAreTransient() {
        for (String state : new String[] { "08001", "08006", "40001", "40P01", "57P01", "53300", "58030" }) {
            assertEquals(Kind.TRANSIENT, Failures.classify(new SQLException("x", state)), state);
        }
        assertEquals(Kind.TRANSIENT, Failures.classify(new RuntimeException(new ConnectException("refused"))));
        assertEquals(Kind.TRANSIENT, Failures.classify(new TimeoutException()));
        assertEquals(Kind.TRANSIENT, Failures.classify(new NotLeaderOrFollowerException("moved")));
        assertTrue(Failures.isTransient(new IllegalStateException("unknown")), "unknown failures are retried");
    }

    @Test
    void badDataAndAuthFailuresArePermanent() {
        for (String state : new String[] { "22P02", "23505", "23502", "42P01", "28P01" }) {
            assertEquals(Kind.PERMANENT, Failures.classify(new SQLException("x", state)), state);
        }
        assertEquals(Kind.PERMANENT, Failures.classify(new RecordCipher.SealException("tampered")));
        assertEquals(Kind.PERMANENT, Failures.classify(new SaslAuthenticationException("bad password")));
        assertFalse(Failures.isTransient(new RuntimeException(new IllegalArgumentException("bad envelope"))));
    }

    @Test
    void onlyDataErrorsMakeARecordPoisonOthersMakeTheTargetUnusable() {
        assertTrue(Failures.isRecordFault(new SQLException("bad json", "22P02")));
        assertTrue(Failures.isRecordFault(new RuntimeException(new SQLException("dup", "23505"))));
        assertTrue(Failures.isRecordFault(new SQLException("index row size exceeds maximum", "54000")));
        for (String state : new String[] { "28P01", "42501", "42P01", "08006", "57P01" }) {
            assertFalse(Failures.isRecordFault(new SQLException("x", state)), state);
        }
        assertEquals(Kind.PERMANENT, Failures.classify(new org.apache.kafka.common.errors.RecordTooLargeException("big")));
        assertEquals(Kind.TRANSIENT, Failures.classify(new org.apache.kafka.common.errors.TimeoutException("expired")));
    }

    @Test
    void healthNeedsConsecutiveGoodProbesToComeBack() {
        TargetHealth health = new TargetHealth(3);
        assertTrue(health.isUp("primary"));
        health.failed("primary", new ConnectException("refused"));
        assertEquals(TargetHealth.State.DOWN, health.status("primary").state());
        health.probeSucceeded("primary");
        health.probeSucceeded("primary");
        assertEquals(TargetHealth.State.RECOVERING, health.status("primary").state());
        assertFalse(health.isUp("primary"));
        health.failed("primary", new ConnectException("flap"));
        health.probeSucceeded("primary");
        health.probeSucceeded("primary");
        assertFalse(health.isUp("primary"), "a failure resets the count");
        health.probeSucceeded("primary");
        assertTrue(health.isUp("primary"));
    }
}
