package tributary.sink;

import tributary.crypto.Envelope;

/** An opened record on its way to a target: the business key, what the outbox row carried, and its sealed form. */
public record SyncRecord(String key, Envelope envelope, byte[] sealed) {

    public SyncRecord(String key, Envelope envelope) {
        this(key, envelope, null);
    }
}
