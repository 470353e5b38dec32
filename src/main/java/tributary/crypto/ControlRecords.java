package tributary.crypto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates the control records that change outbox rows: acks on {@code <topic>.acks} and dead letters on
 * {@code <topic>.dlq}. Each carries an HMAC-SHA-256 under a key derived from a key-ring key, over the pipeline name
 * and the record's content, so a record forged by anyone who can write to the broker, or copied from another
 * pipeline, changes nothing. An ack is:
 *
 * <pre>
 * [1 format=1][1 kind: D done, P parked][1 n][n key id][4 count][8 × count outbox ids][32 mac]
 * </pre>
 */
public final class ControlRecords {

    private static final byte FORMAT = 1;
    private static final int MAC_BYTES = 32;

    /** What an ack says about its rows. */
    public enum Kind {
        /** The primary committed the records. */
        DONE('D'),
        /** Only a primary spool holds the records: not done until the primary commits them. */
        PARKED('P');

        final byte code;

        Kind(char code) {
            this.code = (byte) code;
        }

        static Kind of(byte code) throws RecordCipher.SealException {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            throw new RecordCipher.SealException("ack of unknown kind");
        }
    }

    /** An authenticated ack. */
    public record Ack(Kind kind, long[] ids) {
    }

    private final KeyRing ring;
    private final Map<String, SecretKey> macKeys = new ConcurrentHashMap<>();

    public ControlRecords(KeyRing ring) {
        this.ring = ring;
    }

    public byte[] ack(String pipeline, Kind kind, long[] ids) {
        byte[] keyId = ring.activeId().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(3 + keyId.length + 4 + ids.length * Long.BYTES + MAC_BYTES);
        out.put(FORMAT).put(kind.code).put((byte) keyId.length).put(keyId).putInt(ids.length);
        for (long id : ids) {
            out.putLong(id);
        }
        byte[] mac = mac(ring.activeId(), "ack", pipeline, out.array(), out.position());
        out.put(mac);
        return out.array();
    }

    public Ack openAck(String pipeline, byte[] body) throws RecordCipher.SealException, RecordCipher.UnknownKeyException {
        if (body == null || body.length < 3 + 4 + MAC_BYTES || body[0] != FORMAT) {
            throw new RecordCipher.SealException("not an ack record (unknown format)");
        }
        Kind kind = Kind.of(body[1]);
        int idLength = body[2] & 0xff;
        ByteBuffer in = ByteBuffer.wrap(body);
        if (body.length < 3 + idLength + 4 + MAC_BYTES) {
            throw new RecordCipher.SealException("ack record is truncated");
        }
        String keyId = new String(body, 3, idLength, StandardCharsets.US_ASCII);
        if (!KeyRing.isValidId(keyId)) {
            throw new RecordCipher.SealException("ack record names a malformed key id");
        }
        in.position(3 + idLength);
        int count = in.getInt();
        if (count < 0 || body.length != 3 + idLength + 4 + (long) count * Long.BYTES + MAC_BYTES) {
            throw new RecordCipher.SealException("ack record has a wrong length");
        }
        int macAt = body.length - MAC_BYTES;
        byte[] expected = mac(known(keyId), "ack", pipeline, body, macAt);
        if (!MessageDigest.isEqual(expected, java.util.Arrays.copyOfRange(body, macAt, body.length))) {
            throw new RecordCipher.SealException("ack record failed authentication");
        }
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) {
            ids[i] = in.getLong();
        }
        return new Ack(kind, ids);
    }

    /** The value of a dead letter's authentication header: {@code <key id>:<base64 mac>}. */
    public String deadLetterTag(String pipeline, long outboxId, String reason) {
        byte[] content = deadLetterContent(outboxId, reason);
        return ring.activeId() + ":" + Base64.getEncoder().encodeToString(
                mac(ring.activeId(), "dlq", pipeline, content, content.length));
    }

    /** Whether a dead letter's tag authenticates its outbox id and reason for this pipeline. */
    public boolean verifyDeadLetter(String pipeline, long outboxId, String reason, String tag)
            throws RecordCipher.UnknownKeyException {
        int colon = tag == null ? -1 : tag.indexOf(':');
        if (colon < 1 || !KeyRing.isValidId(tag.substring(0, colon))) {
            return false;
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(tag.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] content = deadLetterContent(outboxId, reason);
        return MessageDigest.isEqual(mac(known(tag.substring(0, colon)), "dlq", pipeline, content, content.length), given);
    }

    private static byte[] deadLetterContent(long outboxId, String reason) {
        byte[] text = String.valueOf(reason).getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(Long.BYTES + text.length).putLong(outboxId).put(text).array();
    }

    private String known(String keyId) throws RecordCipher.UnknownKeyException {
        if (ring.get(keyId) == null) {
            throw new RecordCipher.UnknownKeyException(keyId);
        }
        return keyId;
    }

    private byte[] mac(String keyId, String purpose, String pipeline, byte[] content, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(macKeys.computeIfAbsent(keyId, this::derive));
            mac.update((purpose + '\u0000' + pipeline + '\u0000').getBytes(StandardCharsets.UTF_8));
            mac.update(content, 0, length);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** A MAC key of its own per ring key, so the AES key is never used for two purposes. */
    private SecretKey derive(String keyId) {
        try {
            Mac kdf = Mac.getInstance("HmacSHA256");
            kdf.init(new SecretKeySpec(ring.get(keyId).getEncoded(), "HmacSHA256"));
            return new SecretKeySpec(kdf.doFinal("tributary control records v1".getBytes(StandardCharsets.UTF_8)),
                    "HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}
