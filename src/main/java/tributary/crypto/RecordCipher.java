package tributary.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM for one record at a time. Every record gets a fresh random 12-byte IV; the blob header, the
 * pipeline's scope (pipeline name and target table) and the record key are associated data, so a ciphertext moved
 * to another key, another pipeline's topic, or relabelled with another key id fails to open. The sealed blob is
 * self-describing (the spool stores it as is):
 *
 * <pre>
 * [1 format=2][1 n][n key id][12 IV][ciphertext + 16 tag]
 * </pre>
 *
 * Format 1 (no scope in the associated data) is still opened, so records in flight across an upgrade arrive.
 */
public final class RecordCipher {

    private static final byte FORMAT = 2;
    private static final byte FORMAT_UNSCOPED = 1;
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

    public KeyRing ring() {
        return ring;
    }

    /** The associated data that scopes records to one pipeline and its target table. */
    public static String scope(String pipeline, String targetTable) {
        return pipeline + '\u0000' + targetTable;
    }

    /** Seals {@code plaintext} with the active key, binding it to the pipeline scope and {@code recordKey}. */
    public byte[] seal(String scope, String recordKey, byte[] plaintext) {
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
            cipher.updateAAD(associated(scope, recordKey));
            cipher.doFinal(ByteBuffer.wrap(plaintext), out);
            return out.array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    private static byte[] associated(String scope, String recordKey) {
        return (scope + '\u0000' + recordKey).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Opens a sealed blob; throws {@link SealException} when it is not authentic for this scope and
     * {@code recordKey}, and {@link UnknownKeyException} when it names a key this ring does not hold (a
     * configuration matter during a key rotation, not a bad record).
     */
    public byte[] open(String scope, String recordKey, byte[] sealed) throws SealException, UnknownKeyException {
        if (sealed == null || sealed.length < 2 || (sealed[0] != FORMAT && sealed[0] != FORMAT_UNSCOPED)) {
            throw new SealException("not a sealed record (unknown format)");
        }
        int idLength = sealed[1] & 0xff;
        int headerLength = 2 + idLength;
        if (sealed.length < headerLength + IV_BYTES + TAG_BITS / 8) {
            throw new SealException("sealed record is truncated");
        }
        String keyId = new String(sealed, 2, idLength, StandardCharsets.US_ASCII);
        if (!KeyRing.isValidId(keyId)) {
            throw new SealException("sealed record names a malformed key id");
        }
        SecretKey key = ring.get(keyId);
        if (key == null) {
            throw new UnknownKeyException(keyId);
        }
        try {
            Cipher cipher = ciphers.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, headerLength, IV_BYTES));
            cipher.updateAAD(sealed, 0, headerLength);
            cipher.updateAAD(sealed[0] == FORMAT ? associated(scope, recordKey) : recordKey.getBytes(StandardCharsets.UTF_8));
            int offset = headerLength + IV_BYTES;
            return cipher.doFinal(sealed, offset, sealed.length - offset);
        } catch (GeneralSecurityException e) {
            // The reason names no key value: record keys are business data.
            throw new SealException("record failed authentication (tampered, or not sealed for this key and pipeline)");
        }
    }

    /** A record that cannot be opened: permanent, never retried. */
    public static final class SealException extends Exception {
        public SealException(String message) {
            super(message);
        }
    }

    /** A record sealed with a key id this replica's ring does not hold: held back until the key is configured. */
    public static final class UnknownKeyException extends Exception {

        private final String keyId;

        public UnknownKeyException(String keyId) {
            super("sealed with key id '" + keyId + "', which tributary.crypto.keys does not hold; add the key on every "
                    + "replica before activating it");
            this.keyId = keyId;
        }

        public String keyId() {
            return keyId;
        }
    }
}
