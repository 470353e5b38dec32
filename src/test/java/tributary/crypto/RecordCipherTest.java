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

    private final RecordCipher cipher = new RecordCipher(new KeyRing("k2", Map.of("k1", K1, "k2", K2)));
    private final byte[] plaintext = "{\"amount\": 42}".getBytes(StandardCharsets.UTF_8);

    @Test
    void sealsAndOpensWithAFreshIvEachTime() throws Exception {
        byte[] a = cipher.seal("order-1", plaintext);
        byte[] b = cipher.seal("order-1", plaintext);
        assertNotEquals(Base64.getEncoder().encodeToString(a), Base64.getEncoder().encodeToString(b));
        // IVs sit after the header [format][len]["k2"]: bytes 4..15
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 4, 16), Arrays.copyOfRange(b, 4, 16)), "IV reused");
        assertArrayEquals(plaintext, cipher.open("order-1", a));
        assertArrayEquals(plaintext, cipher.open("order-1", b));
        assertFalse(new String(a, StandardCharsets.ISO_8859_1).contains("amount"));
    }

    @Test
    void rejectsTamperingAndRecordsMovedToAnotherKey() {
        byte[] sealed = cipher.seal("order-1", plaintext);
        for (int i = 2; i < sealed.length; i++) {
            byte[] tampered = sealed.clone();
            tampered[i] ^= 1;
            assertThrows(RecordCipher.SealException.class, () -> cipher.open("order-1", tampered), "byte " + i);
        }
        RecordCipher.SealException moved = assertThrows(RecordCipher.SealException.class,
                () -> cipher.open("order-2", sealed));
        assertTrue(moved.getMessage().contains("authentication"));
        assertThrows(RecordCipher.SealException.class, () -> cipher.open("order-1", Arrays.copyOf(sealed, 20)));
        assertThrows(RecordCipher.SealException.class, () -> cipher.open("order-1", new byte[0]));
    }

    @Test
    void rotatedKeysStillOpenOldRecords() throws Exception {
        RecordCipher old = new RecordCipher(new KeyRing("k1", Map.of("k1", K1)));
        byte[] sealedWithK1 = old.seal("order-9", plaintext);
        assertArrayEquals(plaintext, cipher.open("order-9", sealedWithK1));
        RecordCipher withoutK1 = new RecordCipher(new KeyRing("k2", Map.of("k2", K2)));
        RecordCipher.SealException e = assertThrows(RecordCipher.SealException.class,
                () -> withoutK1.open("order-9", sealedWithK1));
        assertTrue(e.getMessage().contains("unknown key id 'k1'"));
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
