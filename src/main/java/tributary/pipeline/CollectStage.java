package tributary.pipeline;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.crypto.Envelope;
import tributary.crypto.RecordCipher;
import tributary.failover.Failures;
import tributary.failover.TargetHealth;
import tributary.kafka.KafkaErrors;
import tributary.outbox.OutboxRecord;
import tributary.spool.Spool;

/** What the collect route calls: claim, clean, seal, and the outbox status changes around the Kafka send. */
@ApplicationScoped
@Named(CollectStage.NAME)
public class CollectStage {

    public static final String NAME = "collectStage";
    private static final Logger LOG = Logger.getLogger(CollectStage.class);

    private final Pipelines pipelines;
    private final RecordCipher cipher;
    private final CamelContext camel;
    private final Cleaner cleaner = new Cleaner();
    private final TargetHealth health;
    private final DeadRows deadRows;
    private final int maxRecordBytes;
    private final Map<String, Long> sliceWarnings = new java.util.concurrent.ConcurrentHashMap<>();

    public CollectStage(Pipelines pipelines, RecordCipher cipher, CamelContext camel, TargetHealth health,
            DeadRows deadRows, tributary.config.TributaryConfig config) {
        this.maxRecordBytes = config.kafka().maxRecordBytes();
        this.pipelines = pipelines;
        this.cipher = cipher;
        this.camel = camel;
        this.health = health;
        this.deadRows = deadRows;
    }

    /** How long an idle worker's tick waits for its next poll, in milliseconds: at most the idle poll interval. */
    public long idleWait(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.WORKER) int worker) {
        return pipelines.get(pipeline).pacer(worker).idleWaitMillis();
    }

    /**
     * Whether this tick polls: the pacer says so, and something can take the records. While neither Kafka nor the
     * enqueue spool can, collect claims nothing and the rows stay PENDING, untouched.
     */
    public boolean due(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.WORKER) int worker) {
        Pipeline p = pipelines.get(pipeline);
        markUnacked(p);
        return p.pacer(worker).due() && !paused(p);
    }

    /**
     * Published rows still unacked after half their lease become ENQUEUED: from then on the ack timeout, not the
     * lease, decides when they are published again. A failure leaves them for the next tick (the lease's other half).
     */
    void markUnacked(Pipeline p) {
        List<long[]> due = p.published().olderThan(p.config().lease().toNanos() / 2);
        for (int i = 0; i < due.size(); i++) {
            try {
                p.outbox().markEnqueued(due.get(i));
            } catch (SQLException e) {
                p.published().retry(due.subList(i, due.size()));
                LOG.warnf("pipeline %s: published rows not yet marked ENQUEUED (%s); retried at the next tick", p.name(),
                        Failures.describe(e));
                return;
            }
        }
    }

    /**
     * Keeps this replica's share of the outbox's key slices (about every second). A failure drops them all until the
     * next tick: collect then claims nothing, and the rows wait for a replica that owns their slice.
     */
    public void ownSlices(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) {
        Pipeline p = pipelines.get(pipeline);
        try {
            p.slices().tick(p.config().lease());
            sliceWarnings.remove(pipeline);
        } catch (SQLException | RuntimeException e) {
            // Once a minute while the business database stays away, not every second.
            long now = System.nanoTime();
            Long last = sliceWarnings.get(pipeline);
            if (last == null || now - last > 60_000_000_000L) {
                sliceWarnings.put(pipeline, now);
                LOG.warnf("pipeline %s: key slices given up, taken again at the next tick that reaches the business "
                        + "database (%s)", pipeline, Failures.describe(e));
            }
        }
    }

    /** Neither Kafka nor the enqueue spool can take data. */
    public boolean paused(Pipeline p) {
        return !health.isUp(Pipeline.KAFKA) && !p.enqueueSpool().acceptsWrites();
    }

    /**
     * Loop condition: the first claim of a tick, then again while claims come back full and something can take
     * the records (a batch that failed to publish may just have taken Kafka out of the write path).
     */
    public boolean pollAgain(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.WORKER) int worker, @ExchangeProperty(Exchanges.CLAIMED) int claimed) {
        Pipeline p = pipelines.get(pipeline);
        return claimed < 0 || p.pacer(worker).full(claimed) && !paused(p);
    }

    /** Claims a batch of the worker's share of the key slices this replica owns. */
    public List<OutboxRecord> claim(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.WORKER) int worker) throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        List<OutboxRecord> rows = p.outbox().claim(p.slices().view(), worker, p.config().collectWorkers(),
                p.config().batchSize(), p.config().batchBytes(), p.config().lease(), p.config().maxAttempts());
        p.pacer(worker).record(rows.size());
        return rows;
    }

    /**
     * Rejected records become DEAD with their reason; filtered ones are acked FILTERED (final, purged like DONE);
     * the valid ones go on with their cleaned payloads.
     */
    public List<OutboxRecord> clean(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, List<OutboxRecord> rows)
            throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        Cleaner.Cleaned cleaned = cleaner.clean(rows, pipeline, p.config().retention().tombstones(), maxRecordBytes,
                p.clean());
        if (!cleaned.filtered().isEmpty()) {
            filtered(p, cleaned.filtered());
        }
        if (!cleaned.rejected().isEmpty()) {
            deadRows.add(pipeline, p.outbox().markDead(cleaned.rejected()));
            LOG.warnf("pipeline %s: %d record(s) rejected by clean rules and marked DEAD, e.g. id %d: %s", pipeline,
                    cleaned.rejected().size(), cleaned.rejected().keySet().iterator().next(),
                    cleaned.rejected().values().iterator().next());
        }
        return cleaned.valid();
    }

    /** One status change per filter that matched, so each row names the rule that dropped it. */
    private void filtered(Pipeline p, Map<Long, String> filtered) throws SQLException {
        Map<String, List<Long>> byRule = new LinkedHashMap<>();
        filtered.forEach((id, reason) -> byRule.computeIfAbsent(reason, r -> new ArrayList<>()).add(id));
        for (Map.Entry<String, List<Long>> e : byRule.entrySet()) {
            long[] ids = e.getValue().stream().mapToLong(Long::longValue).toArray();
            deadRows.filtered(p.name(), p.outbox().markFiltered(ids, e.getKey(), p.deleteAtAck()));
        }
    }

    /** The failure came from the Kafka send, not from the spool or the database. */
    public static boolean kafkaFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.KafkaException) {
                return true;
            }
        }
        return false;
    }

    static boolean metadataMiss(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.TimeoutException
                    && String.valueOf(t.getMessage()).contains("not present in metadata")) {
                return true;
            }
        }
        return false;
    }

    /** The producer's buffer was full: back-pressure from this replica, not Kafka being away. */
    static boolean bufferFull(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.clients.producer.BufferExhaustedException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Kafka refused a record for what it is (too large, invalid): the only enqueue failure that counts against the
     * record. Retriable errors, authentication and authorisation are the infrastructure's.
     */
    public static boolean recordFault(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.AuthenticationException
                    || t instanceof org.apache.kafka.common.errors.AuthorizationException
                    || t instanceof org.apache.kafka.common.errors.RetriableException) {
                return false;
            }
            if (t instanceof org.apache.kafka.common.errors.RecordTooLargeException
                    || t instanceof org.apache.kafka.common.InvalidRecordException
                    || t instanceof org.apache.kafka.common.errors.SerializationException) {
                return true;
            }
        }
        return false;
    }

    public long[] ids(List<OutboxRecord> rows) {
        return rows.stream().mapToLong(OutboxRecord::id).toArray();
    }

    /** One Kafka message per record: key = business key, value = the sealed envelope. */
    public List<Message> seal(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, List<OutboxRecord> rows) {
        List<Message> messages = new ArrayList<>(rows.size());
        String keyId = cipher.activeKeyId();
        String scope = pipelines.get(pipeline).scope();
        for (OutboxRecord r : rows) {
            Envelope envelope = new Envelope(r.id(), r.version(), r.delete(), r.createdAt(), r.payload());
            Message m = new DefaultMessage(camel);
            m.setHeader(KafkaConstants.KEY, r.key());
            m.setHeader(Exchanges.ID_HEADER, Long.toString(r.id()));
            m.setHeader(Exchanges.KEY_ID_HEADER, keyId);
            m.setBody(cipher.seal(scope, r.key(), envelope.toBytes()));
            messages.add(m);
        }
        return messages;
    }

    /**
     * Kafka acknowledged the batch. Its rows stay PROCESSING under their lease: the ack that marks them DONE is
     * normally back long before, so the business table sees two writes per record (claim, done), not three.
     */
    public void enqueued(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.IDS) long[] ids) {
        pipelines.get(pipeline).published().add(ids);
    }

    /** Whether Kafka takes writes; while it does not, sealed batches go straight to the enqueue spool. */
    public boolean kafkaUp() {
        return health.isUp(Pipeline.KAFKA);
    }

    /** The enqueue spool takes the sealed batch (fsynced); the rows become SPOOLED. */
    public void spool(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.IDS) long[] ids, @ExchangeProperty(Exchanges.SEALED) List<Message> sealed)
            throws IOException, SQLException {
        Pipeline p = pipelines.get(pipeline);
        List<Spool.Entry> entries = new ArrayList<>(sealed.size());
        for (Message m : sealed) {
            entries.add(new Spool.Entry(m.getHeader(KafkaConstants.KEY, String.class),
                    Long.parseLong(m.getHeader(Exchanges.ID_HEADER, String.class)), m.getBody(byte[].class)));
        }
        p.enqueueSpool().append(entries);
        p.spooled().set(true);
        if (!p.capturesTable()) {
            p.outbox().markSpooled(ids);
        }
    }

    /**
     * The batch could not be enqueued. A Kafka failure takes Kafka out of the write path and the batch goes to the
     * enqueue spool. If the spool cannot take it either, or anything else failed that is not the records' fault,
     * the rows are handed back PENDING without counting an attempt, and collect pauses while neither Kafka nor the
     * spool can take data. Only a record Kafka refuses for what it is goes FAILED and counts an attempt.
     */
    public void failed(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.IDS) long[] ids, @ExchangeProperty(Exchanges.SEALED) List<Message> sealed,
            Exception cause) throws SQLException {
        if (ids == null || ids.length == 0) {
            LOG.warnf("pipeline %s: collect failed before publishing (%s); rows this tick claimed stay PROCESSING and "
                    + "are claimed again when their lease ends", pipeline, Failures.describe(cause));
            return;
        }
        Pipeline p = pipelines.get(pipeline);
        if (recordFault(cause)) {
            int n = p.outbox().markFailed(ids, "enqueue refused by Kafka: " + Failures.describe(cause), p.config().retryBackoff());
            LOG.warnf("pipeline %s: Kafka refused a batch for its records, %d row(s) FAILED for retry: %s", pipeline, n,
                    Failures.describe(cause));
            return;
        }
        boolean kafka = kafkaFailure(cause) && !bufferFull(cause);
        // A producer without topic metadata (just started) fails its first send at once; that send fetches the
        // metadata, so the rows are simply claimed again, not spooled, and Kafka is not taken out for it.
        if (kafka && !metadataMiss(cause)) {
            health.failed(Pipeline.KAFKA, KafkaErrors.describe(cause));
            if (sealed != null) {
                try {
                    spool(pipeline, ids, sealed);
                    LOG.warnf("pipeline %s: Kafka did not take %d record(s); spooled to disk: %s", pipeline, ids.length,
                            Failures.describe(cause));
                    return;
                } catch (IOException | SQLException | RuntimeException e) {
                    cause.addSuppressed(e);
                }
            }
        }
        if (kafka || infrastructure(cause)) {
            int n = p.outbox().release(ids);
            LOG.warnf("pipeline %s: %d claimed row(s) handed back PENDING, no attempt counted: %s", pipeline, n,
                    Failures.describe(cause));
            return;
        }
        // Nothing known failed: count the attempt, so a row that keeps failing is buried instead of blocking.
        int n = p.outbox().markFailed(ids, "collect failed: " + Failures.describe(cause), p.config().retryBackoff());
        LOG.warnf("pipeline %s: collect failed, %d row(s) FAILED for retry: %s", pipeline, n, Failures.describe(cause));
    }

    /** The spool, the database or Kafka failed, not the records. */
    static boolean infrastructure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof IOException || t instanceof org.apache.kafka.common.KafkaException
                    || t instanceof SQLException sql && Failures.isTransient(sql)) {
                return true;
            }
        }
        return false;
    }
}
