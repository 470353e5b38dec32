package tributary.pipeline;

/** Names of exchange properties and Kafka headers shared by the routes and the beans they call. */
public final class Exchanges {

    /** Exchange property: the pipeline a route instance serves. */
    public static final String PIPELINE = "TributaryPipeline";
    /** Exchange property: the collect worker (its slice of keys) a collect route instance is. */
    public static final String WORKER = "TributaryWorker";
    /** Exchange property: rows the last claim returned. */
    public static final String CLAIMED = "TributaryClaimed";
    /** Exchange property: outbox ids of the records sent to Kafka by this exchange. */
    public static final String IDS = "TributaryIds";
    /** Exchange property: the sealed Kafka messages of a collect batch, kept for the spool fallback. */
    public static final String SEALED = "TributarySealed";
    /** Exchange property: the spool segment a replay exchange works on. */
    public static final String SEGMENT = "TributarySegment";
    /** Exchange property: the Kafka consumer batch (list of exchanges) an exchange started from. */
    public static final String BATCH = "TributaryBatch";
    /** Exchange property: the opened sync batch. */
    public static final String OPENED = "TributaryOpened";

    /** Exchange property: outbox ids of replayed records Kafka refused for what they are, with the reason. */
    public static final String REFUSED = "TributaryRefused";
    /** Exchange property: what the acks of a written batch say (done in the primary, or parked in its spool). */
    public static final String ACK_KIND = "TributaryAckKind";
    /** Exchange property: completes when Kafka acknowledged a written batch's ack (its offsets wait for it). */
    public static final String ACK_SENT = "TributaryAckSent";

    /** Kafka header: the outbox id, in clear so a record that cannot be opened can still be marked DEAD. */
    public static final String ID_HEADER = "tributary-id";
    /** Kafka header: id of the key that sealed the record. */
    public static final String KEY_ID_HEADER = "tributary-key-id";
    /** Kafka header on dead letters: why the record could not be written. */
    public static final String REASON_HEADER = "tributary-reason";
    /** Kafka header on dead letters: key id and MAC over pipeline, outbox id and reason. */
    public static final String TAG_HEADER = "tributary-tag";

    private Exchanges() {
    }
}
