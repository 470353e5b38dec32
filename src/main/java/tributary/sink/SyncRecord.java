package tributary.sink;

import tributary.crypto.Envelope;

/** An opened record on its way to a target: the business key and what the outbox row carried. */
public record SyncRecord(String key, Envelope envelope) {
}
