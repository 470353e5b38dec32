package tributary.outbox;

import java.time.Instant;

/** One claimed outbox row. {@code payload} is JSON text, null for a delete without payload. */
public record OutboxRecord(long id, String key, Long version, boolean delete, String payload, Instant createdAt,
        int attempts) {
}
