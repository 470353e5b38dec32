package tributary.capture;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.config.TributaryConfig;
import tributary.failover.TargetHealth;
import tributary.kafka.KafkaErrors;
import tributary.outbox.OutboxRecord;
import tributary.pipeline.Cleaner;
import tributary.pipeline.CollectStage;
import tributary.pipeline.DeadRows;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.outbox.Reasons;

/**
 * What the capture route calls for table-mode pipelines: starts each pipeline's change log reader, cleans its
 * batches (rule failures become dead letters with their reason, filtered records are counted), and observes the
 * slot and the snapshot for metrics, health and the log.
 */
@ApplicationScoped
@Named(CaptureStage.NAME)
public class CaptureStage {

    public static final String NAME = "captureStage";
    /** Exchange property: dead letters of the batch (sealed records a rule refused, with the reason). */
    public static final String DEAD_LETTERS = "TributaryDeadLetters";
    private static final Logger LOG = Logger.getLogger(CaptureStage.class);

    private final Pipelines pipelines;
    private final CollectStage collect;
    private final CamelContext camel;
    private final TargetHealth health;
    private final DeadRows deadRows;
    private final MeterRegistry meters;
    private final int maxRecordBytes;
    private final Cleaner cleaner = new Cleaner();
    private final Map<String, TableCapture> captures = new TreeMap<>();
    private final Map<String, Long> slotLag = new ConcurrentHashMap<>();
    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();
    private volatile ProducerTemplate template;

    public CaptureStage(Pipelines pipelines, CollectStage collect, CamelContext camel, TargetHealth health,
            DeadRows deadRows, MeterRegistry meters, TributaryConfig config) {
        this.pipelines = pipelines;
        this.collect = collect;
        this.camel = camel;
        this.health = health;
        this.deadRows = deadRows;
        this.meters = meters;
        this.maxRecordBytes = config.kafka().maxRecordBytes();
        for (Pipeline p : pipelines.tables()) {
            String name = p.name();
            TableCapture capture = new TableCapture(name, p.table(), records -> publish(name, records),
                    new SnapshotProgress());
            captures.put(name, capture);
            Gauge.builder("tributary.capture.slot.lag", slotLag, m -> m.getOrDefault(name, -1L))
                    .description("WAL bytes the source keeps for the pipeline's replication slot (-1: unknown)")
                    .baseUnit("bytes").tag("pipeline", name).register(meters);
            Gauge.builder("tributary.capture.snapshot.rows", capture, c -> c.progress().rows())
                    .description("Snapshot rows published since this process started").tag("pipeline", name)
                    .register(meters);
            Gauge.builder("tributary.capture.snapshot.estimated", capture, c -> c.progress().estimated())
                    .description("Rows the snapshot is expected to copy (the planner's estimate)").tag("pipeline", name)
                    .register(meters);
            Gauge.builder("tributary.capture.snapshot.rate", capture, c -> c.progress().rowsPerSecond())
                    .description("Snapshot rows per second").tag("pipeline", name).register(meters);
            Gauge.builder("tributary.capture.snapshot.eta", capture,
                    c -> c.progress().eta() == null ? -1 : c.progress().eta().toSeconds())
                    .description("Seconds until the snapshot is done at the current rate (-1: unknown)")
                    .baseUnit("seconds").tag("pipeline", name).register(meters);
            Gauge.builder("tributary.capture.streamed", capture, TableCapture::streamed)
                    .description("Changes streamed since this process started").tag("pipeline", name).register(meters);
        }
    }

    public TableCapture capture(String pipeline) {
        TableCapture c = captures.get(pipeline);
        if (c == null) {
            throw new IllegalArgumentException("pipeline '" + pipeline + "' does not capture a table");
        }
        return c;
    }

    public Map<String, TableCapture> captures() {
        return captures;
    }

    /** Last slot lag read, or -1. */
    public long slotLag(String pipeline) {
        return slotLag.getOrDefault(pipeline, -1L);
    }

    /** Starts the pipeline's reader once the routes run (the first batch goes through the capture route). */
    public void start(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) {
        capture(pipeline).start();
    }

    /** Hands one batch to the capture route and waits until Kafka or the enqueue spool holds it. */
    void publish(String pipeline, List<OutboxRecord> records) throws Exception {
        ProducerTemplate t = template;
        if (t == null) {
            t = camel.createProducerTemplate();
            template = t;
        }
        Exchange done = t.send("direct:capture-" + pipeline, exchange -> {
            exchange.setProperty(Exchanges.PIPELINE, pipeline);
            exchange.getMessage().setBody(records);
        });
        Exception failure = done.getException();
        if (failure != null) {
            if (CollectStage.kafkaFailure(failure) && !CollectStage.recordFault(failure)) {
                // Out of the write path: the next attempt goes to the enqueue spool.
                health.failed(Pipeline.KAFKA, KafkaErrors.describe(failure));
            }
            throw failure;
        }
    }

    /**
     * Cleaning rules and checks: valid records go on; refused ones become sealed dead letters with their reason
     * (property {@link #DEAD_LETTERS}); filtered ones are counted.
     */
    public List<OutboxRecord> clean(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, List<OutboxRecord> rows,
            Exchange exchange) {
        Pipeline p = pipelines.get(pipeline);
        Cleaner.Cleaned cleaned = cleaner.clean(rows, pipeline, p.config().retention().tombstones(), maxRecordBytes,
                p.clean());
        if (!cleaned.filtered().isEmpty()) {
            deadRows.filtered(pipeline, cleaned.filtered().size());
        }
        List<Message> letters = List.of();
        if (!cleaned.rejected().isEmpty()) {
            // Sealed like every record (never in clear on Kafka), with the reason in a header.
            List<OutboxRecord> rejected = rows.stream().filter(r -> cleaned.rejected().containsKey(r.id())).toList();
            letters = collect.seal(pipeline, rejected);
            for (Message m : letters) {
                m.setHeader(Exchanges.REASON_HEADER, Reasons.clean(cleaned.rejected()
                        .get(Long.parseLong(m.getHeader(Exchanges.ID_HEADER, String.class)))));
            }
            deadRows.add(pipeline, letters.size());
            LOG.warnf("pipeline %s: %d captured record(s) refused and sent to the dead-letter topic, e.g. %s",
                    pipeline, letters.size(), cleaned.rejected().values().iterator().next());
        }
        exchange.setProperty(DEAD_LETTERS, letters);
        return cleaned.valid();
    }

    /** Reads the slot's lag; logs the snapshot's progress while it runs. */
    public void observe(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) {
        TableCapture c = capture(pipeline);
        try {
            slotLag.put(pipeline, c.source().retainedBytes());
        } catch (SQLException e) {
            slotLag.put(pipeline, -1L);
        }
        SnapshotProgress progress = c.progress();
        if (progress.running() && progress.estimated() == 0) {
            try {
                progress.estimate(c.source().estimatedRows());
            } catch (SQLException e) {
                // estimated at the next reading
            }
        }
        long now = System.currentTimeMillis();
        if (progress.running() && now - lastLogged.getOrDefault(pipeline, 0L) >= 10_000) {
            lastLogged.put(pipeline, now);
            LOG.infof("pipeline %s: %s; slot %s retains %d bytes of WAL", pipeline, progress.describe(),
                    c.source().slot(), slotLag(pipeline));
        }
    }

    /** Before the pools close: readers stop, a batch in flight is not marked and is read again at the next start. */
    @PreDestroy
    void stopAll() {
        captures.values().forEach(TableCapture::stop);
    }
}
