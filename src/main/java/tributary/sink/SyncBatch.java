package tributary.sink;

import java.util.List;

/**
 * A consumer batch after opening: records to write, and poison records that can never be written. Both lists are
 * mutable: a record the database rejects for its data moves from one to the other.
 */
public record SyncBatch(List<SyncRecord> records, List<Poison> poison) {

    /** A record that failed to open or parse; {@code outboxId} is null when even its id header is unusable. */
    public record Poison(Long outboxId, String key, byte[] value, String reason) {
    }
}
