package tributary.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class PollPacerTest {

    private final AtomicLong now = new AtomicLong();
    private final PollPacer pacer = new PollPacer(Duration.ofMillis(10), Duration.ofMillis(200), Duration.ZERO, 100,
            now::get);

    private void advance(long ms) {
        now.addAndGet(Duration.ofMillis(ms).toNanos());
    }

    @Test
    void fullBatchesRepollAtOnce() {
        assertTrue(pacer.due());
        pacer.record(100);
        assertTrue(pacer.full(100));
        assertTrue(pacer.due(), "a full batch means more is waiting");
    }

    @Test
    void partialBatchesKeepTheShortInterval() {
        pacer.record(5);
        assertFalse(pacer.due());
        advance(9);
        assertFalse(pacer.due());
        advance(1);
        assertTrue(pacer.due());
        assertEquals(Duration.ofMillis(10), pacer.interval());
    }

    @Test
    void idlePollsBackOffToTheMaximumAndRowsResetIt() {
        for (int i = 0; i < 10; i++) {
            pacer.record(0);
        }
        assertEquals(Duration.ofMillis(200), pacer.interval());
        advance(199);
        assertFalse(pacer.due());
        advance(1);
        assertTrue(pacer.due());
        pacer.record(1);
        assertEquals(Duration.ofMillis(10), pacer.interval());
    }

    @Test
    void aTickWaitsOnlyWhileBackedOffUntilTheNextPollRoundedUpAndNeverLongerThanTheIdleInterval() {
        assertEquals(0, pacer.idleWaitMillis(), "due at once");
        pacer.record(5);
        assertEquals(0, pacer.idleWaitMillis(), "busy: the tick keeps its own schedule");
        pacer.record(0);
        assertEquals(20, pacer.idleWaitMillis(), "one empty poll: wait the doubled interval");
        now.addAndGet(Duration.ofMillis(16).toNanos() + 1);
        assertEquals(4, pacer.idleWaitMillis(), "3.999 ms rounds up, so the waited tick finds the poll due");
        advance(4);
        assertEquals(0, pacer.idleWaitMillis());
        for (int i = 0; i < 10; i++) {
            pacer.record(0);
        }
        assertEquals(200, pacer.idleWaitMillis(), "idle: the tick waits the maximum interval, not more");
        pacer.record(100);
        assertEquals(0, pacer.idleWaitMillis(), "a full batch polls again at once");
    }

    @Test
    void emptyPollsWithinTheHoldAfterRowsKeepTheShortIntervalThenBackOff() {
        PollPacer held = new PollPacer(Duration.ofMillis(10), Duration.ofMillis(200), Duration.ofMillis(100), 100,
                now::get);
        held.record(0);
        assertEquals(Duration.ofMillis(20), held.interval(), "no rows yet: an idle outbox backs off from the start");
        held.record(3);
        for (int i = 0; i < 9; i++) {
            advance(10);
            held.record(0);
            assertEquals(Duration.ofMillis(10), held.interval(), "within the hold after rows: " + (i + 1) * 10 + " ms");
            assertEquals(0, held.idleWaitMillis());
        }
        advance(10);
        held.record(0);
        assertEquals(Duration.ofMillis(20), held.interval(), "the hold is over: empty polls back off again");
        advance(20);
        held.record(1);
        assertEquals(Duration.ofMillis(10), held.interval());
        advance(99);
        held.record(0);
        assertEquals(Duration.ofMillis(10), held.interval(), "new rows start the hold again");
    }

    @Test
    void rejectsInvertedIntervals() {
        assertThrows(IllegalArgumentException.class, () -> new PollPacer(Duration.ofSeconds(2), Duration.ofSeconds(1),
                Duration.ZERO, 10));
        assertThrows(IllegalArgumentException.class, () -> new PollPacer(Duration.ofMillis(5), Duration.ofSeconds(1),
                Duration.ofMillis(-1), 10));
    }
}
