package tributary.failover;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.crypto.ControlRecords;
import tributary.crypto.MissingKeys;
import tributary.crypto.RecordCipher;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.pipeline.SyncStage;
import tributary.sink.SyncBatch;
import tributary.sink.SyncRecord;
import tributary.spool.Spool;

/**
 * What the replay routes call: drain a spool segment to its target once the target is healthy, oldest first, and
 * delete the segment only after the target committed it.
 */
@ApplicationScoped
@Named(ReplayStage.NAME)
public class ReplayStage {

    public static final String NAME = "replayStage";
    private static final Logger LOG = Logger.getLogger(ReplayStage.class);

    private final Pipelines pipelines;
    private final TargetHealth health;
    private final RecordCipher cipher;
    private final CamelContext camel;
    private final MeterRegistry meters;
    private final SyncStage sync;
    private final ControlRecords control;
    private final MissingKeys missingKeys;
    private final tributary.pipeline.DeadRows deadRows;

    public ReplayStage(Pipelines pipelines, TargetHealth health, RecordCipher cipher, CamelContext camel,
            MeterRegistry meters, SyncStage sync, ControlRecords control, MissingKeys missingKeys,
            tributary.pipeline.DeadRows deadRows) {
        this.deadRows = deadRows;
        this.pipelines = pipelines;
        this.health = health;
        this.cipher = cipher;
        this.camel = camel;
        this.meters = meters;
        this.sync = sync;
        this.control = control;
        this.missingKeys = missingKeys;
    }

    /** Seals the spool's open segment when it is old enough, so that the next poll finds it. Runs on every poll. */
    public void seal(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target) {
        try {
            pipelines.get(pipeline).spool(target).sealIfAged();
        } catch (IOException e) {
            // Sealed segments still replay (and free the space a failed seal may be short of); the segment that
            // could not be sealed stays listed and is tried again on the next tick.
            LOG.warnf("pipeline %s: a %s spool segment could not be sealed now: %s", pipeline, target, e.getMessage());
        }
    }

    /** Whether the spool's target takes writes. */
    public boolean ready(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target) {
        return health.isUp(pipelines.get(pipeline).healthName(target));
    }

    /** The enqueue segment's records as Kafka messages, as collect would have sent them. */
    public List<Message> enqueueMessages(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.SEGMENT) String segment) throws IOException {
        Pipeline p = pipelines.get(pipeline);
        List<Spool.Entry> entries = p.enqueueSpool().read(Path.of(segment));
        List<Message> messages = new ArrayList<>(entries.size());
        for (Spool.Entry e : entries) {
            Message m = new DefaultMessage(camel);
            m.setHeader(KafkaConstants.KEY, e.key());
            m.setHeader(Exchanges.ID_HEADER, Long.toString(e.outboxId()));
            m.setHeader(Exchanges.KEY_ID_HEADER, cipher.activeKeyId());
            m.setBody(e.sealed());
            messages.add(m);
        }
        return messages;
    }

    /**
     * After Kafka took the segment: rows SPOOLED → ENQUEUED (acks make them DONE); rows whose record Kafka refused
     * for what it is become DEAD with the reason (their ids come from this replica's own spool); then the segment
     * goes.
     */
    public void enqueueReplayed(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.SEGMENT) String segment, @ExchangeProperty(Exchanges.REFUSED) Map<Long, String> refused,
            List<Message> messages) throws IOException, SQLException {
        Pipeline p = pipelines.get(pipeline);
        long[] ids = messages.stream().mapToLong(m -> Long.parseLong(m.getHeader(Exchanges.ID_HEADER, String.class)))
                .filter(id -> !refused.containsKey(id)).toArray();
        // A captured table has no rows to mark: its refused records are counted and logged only.
        if (!p.capturesTable()) {
            p.outbox().markReplayed(ids);
        }
        if (!refused.isEmpty()) {
            deadRows.add(pipeline, p.capturesTable() ? refused.size() : p.outbox().markDead(refused));
            LOG.errorf("pipeline %s: Kafka refused %d spooled record(s) of %s for good; they are DEAD, e.g. %s",
                    pipeline, refused.size(), Path.of(segment).getFileName(), refused.values().iterator().next());
        }
        p.enqueueSpool().delete(Path.of(segment));
        replayed(p, "enqueue", ids.length, segment);
    }

    /** A fresh, empty map of refused records for one replayed segment. */
    public Map<Long, String> noneRefused() {
        return new ConcurrentHashMap<>();
    }

    /** Whether Kafka refused a record for what it is (too large, invalid), not for being away. */
    public boolean recordRefused(Exception e) {
        return tributary.pipeline.CollectStage.recordFault(e);
    }

    /** Turns one split-off sealed message back into the exchange's own body and headers. */
    public void unwrap(org.apache.camel.Exchange exchange) {
        Message sealed = exchange.getMessage().getBody(Message.class);
        exchange.getMessage().setHeaders(new java.util.HashMap<>(sealed.getHeaders()));
        exchange.getMessage().setBody(sealed.getBody());
    }

    /** Keeps a refused record's outbox id with the reason. */
    public void refused(@ExchangeProperty(Exchanges.REFUSED) Map<Long, String> refused,
            @org.apache.camel.Header(Exchanges.ID_HEADER) String id, Exception cause) {
        refused.put(Long.parseLong(id), "refused by Kafka on replay: " + Failures.describe(cause));
    }

    /**
     * Opens a database segment's records and writes them, version-guarded, to the primary or the standby. Returns
     * the dead letters of records that cannot be opened or that the target rejects; the route publishes them before
     * the segment goes.
     */
    public SyncBatch replayTarget(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target,
            @ExchangeProperty(Exchanges.SEGMENT) String segment) throws IOException, SQLException {
        Pipeline p = pipelines.get(pipeline);
        List<SyncRecord> records = new ArrayList<>();
        SyncBatch batch = new SyncBatch(records, new ArrayList<>());
        for (Spool.Entry e : p.spool(target).read(Path.of(segment))) {
            try {
                records.add(sync.openOne(p, e.key(), e.sealed(), e.outboxId()));
            } catch (RecordCipher.SealException | IllegalArgumentException bad) {
                batch.poison().add(new SyncBatch.Poison(e.outboxId(), e.key(), e.sealed(), bad.getMessage()));
            } catch (RecordCipher.UnknownKeyException unknown) {
                throw missingKeys.report(pipeline, unknown);
            }
        }
        try {
            Sinks.writeIsolatingPoison(p.writer(target), batch);
        } catch (SQLException ex) {
            health.failed(p.healthName(target), ex);
            throw ex;
        }
        for (SyncBatch.Poison poison : batch.poison()) {
            if (Pipeline.PRIMARY.equals(target)) {
                LOG.errorf("pipeline %s: spooled record of outbox id %d could not be replayed and goes to the "
                        + "dead-letter topic: %s", pipeline, poison.outboxId(), poison.reason());
            } else {
                LOG.warnf("pipeline %s: the standby rejected a spooled record of outbox id %d (%s); the primary path "
                        + "decides its fate", pipeline, poison.outboxId(), poison.reason());
            }
        }
        if (!batch.poison().isEmpty() && !Pipeline.PRIMARY.equals(target)) {
            Counter.builder("tributary.replay.rejected").tag("pipeline", p.name()).tag("target", target)
                    .register(meters).increment(batch.poison().size());
        }
        return batch;
    }

    /**
     * Dead letters of a replayed segment: only the primary's. The standby is best effort: what it rejects still
     * reaches the primary through the primary spool or Kafka, so its rejections are only logged and counted.
     */
    public List<Message> deadLetters(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch) {
        return Pipeline.PRIMARY.equals(target) ? sync.deadLetters(pipeline, batch) : List.of();
    }

    /** After the primary committed a replayed segment: the acks that make its rows DONE. Null for the standby. */
    public List<byte[]> acks(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch) {
        if (!Pipeline.PRIMARY.equals(target) || batch.records().isEmpty()) {
            return null;
        }
        // A segment can hold far more records than one message should carry: acks of at most ACK_CHUNK ids each.
        List<byte[]> acks = new ArrayList<>();
        List<SyncRecord> records = batch.records();
        for (int from = 0; from < records.size(); from += ACK_CHUNK) {
            long[] ids = records.subList(from, Math.min(records.size(), from + ACK_CHUNK)).stream()
                    .mapToLong(r -> r.envelope().outboxId()).toArray();
            acks.add(control.ack(pipeline, ControlRecords.Kind.DONE, ids));
        }
        return acks;
    }

    /** Ids per replayed ack message: 80 KB, well inside any producer's request size. */
    static final int ACK_CHUNK = 10_000;

    /** After the target committed the segment and its dead letters are on Kafka: the segment goes. */
    public void targetReplayed(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, String target,
            @ExchangeProperty(Exchanges.SEGMENT) String segment, @ExchangeProperty(Exchanges.OPENED) SyncBatch batch)
            throws IOException {
        Pipeline p = pipelines.get(pipeline);
        p.spool(target).delete(Path.of(segment));
        replayed(p, target, batch.records().size(), segment);
    }

    /**
     * With the enqueue spool drained, SPOOLED rows of this replica that were never replayed (a record cut off as
     * torn, or quarantined) go back to PENDING and are collected again.
     */
    public void requeueIfDrained(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) throws IOException, SQLException {
        Pipeline p = pipelines.get(pipeline);
        if (p.spooled().get() && p.enqueueSpool().isEmpty() && health.isUp(Pipeline.KAFKA) && !p.capturesTable()) {
            p.spooled().set(false);
            int n = p.outbox().requeueSpooled();
            if (n > 0) {
                LOG.warnf("pipeline %s: %d SPOOLED row(s) had no record left in the spool and are collected again",
                        pipeline, n);
            }
        }
    }

    private void replayed(Pipeline p, String target, int records, String segment) throws IOException {
        Counter.builder("tributary.replay.records").tag("pipeline", p.name()).tag("target", target)
                .register(meters).increment(records);
        Spool spool = p.spool(target);
        LOG.infof("pipeline %s: replayed %d records of %s to %s; %d segment(s), %d bytes left", p.name(), records,
                Path.of(segment).getFileName(), target, spool.segments().size(), spool.bytesOnDisk());
    }

}
