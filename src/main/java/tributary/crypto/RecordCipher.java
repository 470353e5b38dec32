package tributary.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM for one record at a time. Every record gets a fresh random 12-byte IV; the record key and the
 * blob header are associated data, so a ciphertext moved to another key or relabelled with another key id fails
 * to open. The sealed blob is self-describing (the spool stores it as is):
 *
 * <pre>
 * [1 format=1][1 n][n key id][12 IV][ciphertext + 16 tag]
 * </pre>
 */
public final class RecordCipher {

    private static final byte FORMAT = 1;
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    private final KeyRing ring;
    private final SecureRandom random = new SecureRandom();
    // Cipher objects are not thread-safe and costly to look up: one per thread.
    private final ThreadLocal<Cipher> ciphers = ThreadLocal.withInitial(RecordCipher::newCipher);

    public RecordCipher(KeyRing ring) {
        this.ring = ring;
    }

    private static Cipher newCipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is not available in this JVM", e);
        }
    }

    public String activeKeyId() {
        return ring.activeId();
    }

    /** Seals {@code plaintext} with the active key, binding it to {@code recordKey}. */
    public byte[] seal(String recordKey, byte[] plaintext) {
        byte[] keyId = ring.activeId().getBytes(StandardCharsets.US_ASCII);
        int headerLength = 2 + keyId.length;
        byte[] iv = new byte[IV_BYTES];
        random.nextBytes(iv);
        try {
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.ENCRYPT_MODE, ring.active(), new GCMParameterSpec(TAG_BITS, iv));
            ByteBuffer out = ByteBuffer.allocate(headerLength + IV_BYTES + cipher.getOutputSize(plaintext.length));
            out.put(FORMAT).put((byte) keyId.length).put(keyId).put(iv);
            cipher.updateAAD(out.array(), 0, headerLength);
            cipher.updateAAD(recordKey.getBytes(StandardCharsets.UTF_8));
            cipher.doFinal(ByteBuffer.wrap(plaintext), out);
            return out.array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    /** Opens a sealed blob; throws {@link SealException} when it is not authentic for {@code recordKey}. */
    public byte[] open(String recordKey, byte[] sealed) throws SealException {
        if (sealed == null || sealed.length < 2 || sealed[0] != FORMAT) {
            throw new SealException("not a sealed record (unknown format)");
        }
        int idLength = sealed[1] & 0xff;
        int headerLength = 2 + idLength;
        if (sealed.length < headerLength + IV_BYTES + TAG_BITS / 8) {
            throw new SealException("sealed record is truncated");
        }
        String keyId = new String(sealed, 2, idLength, StandardCharsets.US_ASCII);
        SecretKey key = ring.get(keyId);
        if (key == null) {
            throw new SealException("sealed with unknown key id '" + keyId + "'");
        }
        try {
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, headerLength, IV_BYTES));
            cipher.updateAAD(sealed, 0, headerLength);
            cipher.updateAAD(recordKey.getBytes(StandardCharsets.UTF_8));
            int offset = headerLength + IV_BYTES;
            return cipher.doFinal(sealed, offset, sealed.length - offset);
        } catch (GeneralSecurityException e) {
            throw new SealException("record failed authentication (tampered, or not for key '" + recordKey + "')");
        }
    }

    /** A record that cannot be opened: permanent, never retried. */
    public static final class SealException extends Exception {
        public SealException(String message) {
            super(message);
        }
    }
}
