package tributary.sink;

import java.util.List;

/**
 * A consumer batch after opening: records to write, and poison records that can never be written. Both lists are
 * mutable: a record the database rejects for its data moves from one to the other.
 */
public record SyncBatch(List<SyncRecord> records, List<Poison> poison) {

    /**
     * A record that failed to open or parse, or that a target rejected. {@code idAuthentic} says whether the outbox
     * id comes from an opened envelope (or this replica's own spool); an id read from a clear header of a record
     * that did not open proves nothing, so its dead letter must not change the outbox.
     */
    public record Poison(Long outboxId, String key, byte[] value, String reason, boolean idAuthentic) {

        public Poison(Long outboxId, String key, byte[] value, String reason) {
            this(outboxId, key, value, reason, true);
        }
    }
}
