package tributary.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RecordCipherTest {

    private static final String K1 = Base64.getEncoder().encodeToString(new byte[32]);
    private static final String K2 = Base64.getEncoder().encodeToString(filled(32, (byte) 7));

    private static byte[] filled(int n, byte b) {
        byte[] a = new byte[n];
        Arrays.fill(a, b);
        return a;
    }

    private static final String SCOPE = RecordCipher.scope("orders", "analytics.orders");

    private final RecordCipher cipher = new RecordCipher(new KeyRing("k2", Map.of("k1", K1, "k2", K2)));
    private final byte[] plaintext = "{\"amount\": 42}".getBytes(StandardCharsets.UTF_8);

    @Test
    void sealsAndOpensWithAFreshIvEachTime() throws Exception {
        byte[] a = cipher.seal(SCOPE, "order-1", plaintext);
        byte[] b = cipher.seal(SCOPE, "order-1", plaintext);
        assertNotEquals(Base64.getEncoder().encodeToString(a), Base64.getEncoder().encodeToString(b));
        // IVs sit after the header [format][len]["k2"]: bytes 4..15
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 4, 16), Arrays.copyOfRange(b, 4, 16)), "IV reused");
        assertArrayEquals(plaintext, cipher.open(SCOPE, "order-1", a));
        assertArrayEquals(plaintext, cipher.open(SCOPE, "order-1", b));
        assertFalse(new String(a, StandardCharsets.ISO_8859_1).contains("amount"));
    }

    @Test
    void rejectsTamperingAndRecordsMovedToAnotherKey() {
        byte[] sealed = cipher.seal(SCOPE, "order-1", plaintext);
        for (int i = 2; i < sealed.length; i++) {
            byte[] tampered = sealed.clone();
            tampered[i] ^= 1;
            // Bytes 2-3 are the key id: a changed one names a key the ring lacks, which holds the record back.
            Class<? extends Exception> expected = i < 4 ? Exception.class : RecordCipher.SealException.class;
            Exception e = assertThrows(Exception.class, () -> cipher.open(SCOPE, "order-1", tampered), "byte " + i);
            assertTrue(expected.isInstance(e), "byte " + i + ": " + e);
        }
        RecordCipher.SealException moved = assertThrows(RecordCipher.SealException.class,
                () -> cipher.open(SCOPE, "order-2", sealed));
        assertTrue(moved.getMessage().contains("authentication"));
        assertThrows(RecordCipher.SealException.class, () -> cipher.open(SCOPE, "order-1", Arrays.copyOf(sealed, 20)));
        assertThrows(RecordCipher.SealException.class, () -> cipher.open(SCOPE, "order-1", new byte[0]));
    }

    @Test
    void aRecordCopiedIntoAnotherPipelineOrTargetDoesNotOpen() {
        byte[] sealed = cipher.seal(SCOPE, "order-1", plaintext);
        assertThrows(RecordCipher.SealException.class,
                () -> cipher.open(RecordCipher.scope("payments", "analytics.orders"), "order-1", sealed));
        assertThrows(RecordCipher.SealException.class,
                () -> cipher.open(RecordCipher.scope("orders", "analytics.other"), "order-1", sealed));
        // The scope separator cannot be forged by shifting characters between pipeline and key.
        assertThrows(RecordCipher.SealException.class,
                () -> cipher.open(RecordCipher.scope("orders", "analytics.orders\u0000order"), "-1", sealed));
    }

    @Test
    void controlRecordsAreAuthenticatedPerPipeline() throws Exception {
        ControlRecords control = new ControlRecords(cipher.ring());
        byte[] ack = control.ack("orders", ControlRecords.Kind.PARKED, new long[] { 5, 7 });
        ControlRecords.Ack opened = control.openAck("orders", ack);
        assertEquals(ControlRecords.Kind.PARKED, opened.kind());
        assertArrayEquals(new long[] { 5, 7 }, opened.ids());
        assertThrows(RecordCipher.SealException.class, () -> control.openAck("payments", ack), "another pipeline");
        for (int i = 0; i < ack.length; i++) {
            byte[] forged = ack.clone();
            forged[i] ^= 1;
            assertThrows(Exception.class, () -> control.openAck("orders", forged), "byte " + i);
        }
        // A raw list of ids, as acks were before, changes nothing.
        assertThrows(RecordCipher.SealException.class, () -> control.openAck("orders", new byte[16]));
        String tag = control.deadLetterTag("orders", 5, "payload is not a JSON object");
        assertTrue(control.verifyDeadLetter("orders", 5, "payload is not a JSON object", tag));
        assertFalse(control.verifyDeadLetter("orders", 6, "payload is not a JSON object", tag));
        assertFalse(control.verifyDeadLetter("orders", 5, "other reason", tag));
        assertFalse(control.verifyDeadLetter("payments", 5, "payload is not a JSON object", tag));
        assertFalse(control.verifyDeadLetter("orders", 5, "payload is not a JSON object", null));
        ControlRecords lacking = new ControlRecords(new KeyRing("k1", Map.of("k1", K1)));
        assertThrows(RecordCipher.UnknownKeyException.class, () -> lacking.openAck("orders", ack));
    }

    @Test
    void rotatedKeysStillOpenOldRecords() throws Exception {
        RecordCipher old = new RecordCipher(new KeyRing("k1", Map.of("k1", K1)));
        byte[] sealedWithK1 = old.seal(SCOPE, "order-9", plaintext);
        assertArrayEquals(plaintext, cipher.open(SCOPE, "order-9", sealedWithK1));
        RecordCipher withoutK1 = new RecordCipher(new KeyRing("k2", Map.of("k2", K2)));
        // A key the ring lacks is a configuration matter (rolling rotation), not a bad record.
        RecordCipher.UnknownKeyException e = assertThrows(RecordCipher.UnknownKeyException.class,
                () -> withoutK1.open(SCOPE, "order-9", sealedWithK1));
        assertEquals("k1", e.keyId());
        assertTrue(e.getMessage().contains("tributary.crypto.keys"));
        assertEquals("k2", cipher.activeKeyId());
    }

    @Test
    void keyRingErrorsNameTheKeyButNeverItsMaterial() {
        String secretish = Base64.getEncoder().encodeToString(filled(16, (byte) 1));
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
                () -> new KeyRing("a", Map.of("a", secretish)));
        assertTrue(shortKey.getMessage().contains("must be 32 bytes"));
        assertFalse(shortKey.getMessage().contains(secretish));
        IllegalArgumentException notBase64 = assertThrows(IllegalArgumentException.class,
                () -> new KeyRing("a", Map.of("a", "not base64 !!")));
        assertFalse(notBase64.getMessage().contains("not base64 !!"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new KeyRing("k3", Map.of("k1", K1)));
        assertTrue(missing.getMessage().contains("k3"));
        assertFalse(new KeyRing("k1", Map.of("k1", K1)).toString().contains(K1));
    }

    @Test
    void envelopeRoundTrips() {
        Instant t = Instant.parse("2026-11-24T10:15:30.123456Z");
        Envelope e = new Envelope(7, 3, false, t, "{\"a\": \"ü\"}");
        assertEquals(e, Envelope.fromBytes(e.toBytes()));
        Envelope delete = new Envelope(8, 4, true, t, null);
        assertEquals(delete, Envelope.fromBytes(delete.toBytes()));
        byte[] bytes = e.toBytes();
        assertThrows(IllegalArgumentException.class, () -> Envelope.fromBytes(Arrays.copyOf(bytes, bytes.length - 2)));
    }
}
