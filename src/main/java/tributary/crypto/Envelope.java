package tributary.crypto;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * What travels sealed on Kafka and in the spool: the outbox row's id, version, operation, creation time and
 * payload. The business key is the Kafka record key and the associated data of the seal, so it is not repeated.
 */
public record Envelope(long outboxId, long version, boolean delete, Instant createdAt, String payload) {

    private static final byte FORMAT = 1;

    public byte[] toBytes() {
        byte[] json = payload == null ? null : payload.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + (json == null ? 0 : json.length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(outboxId);
            out.writeLong(version);
            out.writeBoolean(delete);
            out.writeLong(ChronoUnit.MICROS.between(Instant.EPOCH, createdAt));
            out.writeInt(json == null ? -1 : json.length);
            if (json != null) {
                out.write(json);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static Envelope fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readByte() != FORMAT) {
                throw new IllegalArgumentException("unknown envelope format");
            }
            long id = in.readLong();
            long version = in.readLong();
            boolean delete = in.readBoolean();
            Instant createdAt = Instant.EPOCH.plus(in.readLong(), ChronoUnit.MICROS);
            int length = in.readInt();
            String payload = null;
            if (length >= 0) {
                byte[] json = in.readNBytes(length);
                if (json.length != length) {
                    throw new IllegalArgumentException("envelope payload is truncated");
                }
                payload = new String(json, StandardCharsets.UTF_8);
            }
            return new Envelope(id, version, delete, createdAt, payload);
        } catch (IOException e) {
            throw new IllegalArgumentException("envelope is truncated", e);
        }
    }

    public long createdAtMicros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, createdAt);
    }
}
