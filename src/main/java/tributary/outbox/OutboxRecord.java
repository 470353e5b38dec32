package tributary.outbox;

import java.time.Instant;

/**
 * One claimed outbox row. {@code payload} is JSON text, null for a delete without payload. {@code problem} says
 * what is wrong with the row's metadata (an operation value that is neither an upsert nor a delete), or is null.
 */
public record OutboxRecord(long id, String key, Long version, boolean delete, String payload, Instant createdAt,
        int attempts, String problem) {

    public OutboxRecord(long id, String key, Long version, boolean delete, String payload, Instant createdAt,
            int attempts) {
        this(id, key, version, delete, payload, createdAt, attempts, null);
    }

    /** The same row with another payload: what the cleaning rules made of it. */
    public OutboxRecord withPayload(String cleaned) {
        return new OutboxRecord(id, key, version, delete, cleaned, createdAt, attempts, problem);
    }
}
