package tributary.pipeline;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

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

    public CollectStage(Pipelines pipelines, RecordCipher cipher, CamelContext camel, TargetHealth health) {
        this.pipelines = pipelines;
        this.cipher = cipher;
        this.camel = camel;
        this.health = health;
    }

    public boolean due(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) {
        return pipelines.get(pipeline).pacer().due();
    }

    /** Loop condition: the first claim of a tick, then again while claims come back full. */
    public boolean pollAgain(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.CLAIMED) int claimed) {
        return claimed < 0 || pipelines.get(pipeline).pacer().full(claimed);
    }

    public List<OutboxRecord> claim(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        List<OutboxRecord> rows = p.outbox().claim(p.config().batchSize(), p.config().lease(), p.config().maxAttempts());
        p.pacer().record(rows.size());
        return rows;
    }

    /** Rejected records become DEAD with their reason; the valid ones go on. */
    public List<OutboxRecord> clean(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, List<OutboxRecord> rows)
            throws SQLException {
        Cleaner.Cleaned cleaned = cleaner.clean(rows);
        if (!cleaned.rejected().isEmpty()) {
            pipelines.get(pipeline).outbox().markDead(cleaned.rejected());
            LOG.warnf("pipeline %s: %d record(s) rejected by clean rules and marked DEAD, e.g. id %d: %s", pipeline,
                    cleaned.rejected().size(), cleaned.rejected().keySet().iterator().next(),
                    cleaned.rejected().values().iterator().next());
        }
        return cleaned.valid();
    }

    /** The failure came from the Kafka send, not from the spool or the database. */
    static boolean kafkaFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.KafkaException) {
                return true;
            }
        }
        return false;
    }

    static boolean metadataMiss(Throwable cause) {
        return cause instanceof org.apache.kafka.common.errors.TimeoutException
                && String.valueOf(cause.getMessage()).contains("not present in metadata");
    }

    public long[] ids(List<OutboxRecord> rows) {
        return rows.stream().mapToLong(OutboxRecord::id).toArray();
    }

    /** One Kafka message per record: key = business key, value = the sealed envelope. */
    public List<Message> seal(List<OutboxRecord> rows) {
        List<Message> messages = new ArrayList<>(rows.size());
        String keyId = cipher.activeKeyId();
        for (OutboxRecord r : rows) {
            Envelope envelope = new Envelope(r.id(), r.version(), r.delete(), r.createdAt(), r.payload());
            Message m = new DefaultMessage(camel);
            m.setHeader(KafkaConstants.KEY, r.key());
            m.setHeader(Exchanges.ID_HEADER, Long.toString(r.id()));
            m.setHeader(Exchanges.KEY_ID_HEADER, keyId);
            m.setBody(cipher.seal(r.key(), envelope.toBytes()));
            messages.add(m);
        }
        return messages;
    }

    public void enqueued(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.IDS) long[] ids) throws SQLException {
        pipelines.get(pipeline).outbox().markEnqueued(ids);
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
        p.outbox().markSpooled(ids);
    }

    /**
     * The batch could not be enqueued. A Kafka failure takes Kafka out of the write path and the batch goes to the
     * enqueue spool; if the spool cannot take it either, the rows go back FAILED with a backoff and stay in the
     * source. Nothing claimed is dropped.
     */
    public void failed(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.IDS) long[] ids, @ExchangeProperty(Exchanges.SEALED) List<Message> sealed,
            Exception cause) throws SQLException {
        if (ids == null || ids.length == 0) {
            LOG.warnf("pipeline %s: claim failed, nothing was taken from the outbox: %s", pipeline, cause.toString());
            return;
        }
        Pipeline p = pipelines.get(pipeline);
        // Spool only what Kafka could not take for now; a record Kafka rejects for good (too large) stays FAILED
        // in the source, where it becomes DEAD after its attempts, instead of circling in the spool. A broker that
        // refuses the credentials refuses every record: that is Kafka unusable, not the records.
        if (sealed != null && kafkaFailure(cause) && (Failures.isTransient(cause) || KafkaErrors.refused(cause))) {
            if (!metadataMiss(cause)) {
                // A producer without topic metadata (just started) fails its first send at once; the probe, not
                // that failure, decides whether Kafka is really away.
                health.failed(Pipeline.KAFKA, KafkaErrors.describe(cause));
            }
            try {
                spool(pipeline, ids, sealed);
                LOG.warnf("pipeline %s: Kafka did not take %d record(s); spooled to disk: %s", pipeline, ids.length,
                        cause.toString());
                return;
            } catch (IOException | SQLException | RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
        int n = p.outbox().markFailed(ids, "enqueue failed: " + cause, p.config().retryBackoff());
        LOG.warnf("pipeline %s: enqueue failed, %d row(s) FAILED for retry: %s", pipeline, n, cause.toString());
    }
}
