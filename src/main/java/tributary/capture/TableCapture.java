package tributary.capture;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.connect.source.SourceRecord;
import org.jboss.logging.Logger;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.embedded.Connect;
import tributary.failover.Failures;
import tributary.outbox.OutboxRecord;

/**
 * Runs the change log reader of one table-mode pipeline. Each batch the reader hands over is published as a whole
 * (Kafka, or the enqueue spool) before its offsets are marked: the reader stores offsets only for marked records, so
 * a kill loses nothing and re-sends at most the batches not yet marked. While nothing can take the batch it is
 * retried and the reader waits; the slot keeps the WAL meanwhile.
 */
public final class TableCapture {

    private static final Logger LOG = Logger.getLogger(TableCapture.class);

    /** Publishes one batch of records; returns normally only once Kafka or the enqueue spool holds all of them. */
    @FunctionalInterface
    public interface Publisher {
        void publish(List<OutboxRecord> records) throws Exception;
    }

    private final String pipeline;
    private final TableSource source;
    private final Publisher publisher;
    private final SnapshotProgress progress;
    private final AtomicLong ids = new AtomicLong(System.currentTimeMillis() * 1000);
    private final AtomicLong streamed = new AtomicLong();
    private volatile ExecutorService executor;
    private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private volatile boolean stopping;
    private volatile String state = "STARTING";
    private volatile long lastFailureAt;
    /** The reader handed over its first batch (a heartbeat at the latest): it reads the log from here on. */
    private volatile boolean received;

    public TableCapture(String pipeline, TableSource source, Publisher publisher, SnapshotProgress progress) {
        this.pipeline = pipeline;
        this.source = source;
        this.publisher = publisher;
        this.progress = progress;
        SnapshotNotifications.register(source.topicPrefix(), progress);
    }

    public String pipeline() {
        return pipeline;
    }

    public TableSource source() {
        return source;
    }

    public SnapshotProgress progress() {
        return progress;
    }

    /** Changes streamed (not snapshot rows) since start. */
    public long streamed() {
        return streamed.get();
    }

    /** RUNNING, STARTING, or what stopped the reader (it is restarted after a pause). */
    public String state() {
        return state;
    }

    public synchronized void start() {
        if (executor != null) {
            return;
        }
        stopping = false;
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tributary-capture-" + pipeline);
            t.setDaemon(true);
            return t;
        });
        executor.execute(this::supervise);
    }

    /** Runs the reader, and again after a pause when it stops on a failure (source down, slot busy). */
    private void supervise() {
        long pause = 1_000;
        while (!stopping) {
            try {
                run();
                pause = 1_000;
            } catch (RuntimeException e) {
                state = "FAILED: " + Failures.describe(e);
                LOG.errorf("pipeline %s: change log reader failed (%s); restarted in %d ms", pipeline,
                        Failures.describe(e), pause);
            }
            if (stopping) {
                return;
            }
            sleep(pause);
            pause = Math.min(pause * 2, 30_000);
        }
    }

    private void run() {
        String[] failure = new String[1];
        DebeziumEngine<RecordChangeEvent<SourceRecord>> e = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(source.properties())
                .using((success, message, error) -> {
                    if (!success) {
                        failure[0] = error == null ? message : Failures.describe(error);
                    }
                })
                .notifying(this::handle)
                .build();
        engine = e;
        if (stopping) {
            return;
        }
        state = "RUNNING";
        Thread requester = new Thread(this::requestInitialSnapshot, "tributary-capture-signal-" + pipeline);
        requester.setDaemon(true);
        requester.start();
        e.run();
        requester.interrupt();
        if (!stopping && failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        if (!stopping) {
            state = "STOPPED";
        }
    }

    /**
     * Once the slot exists (so the request is read from the log after the slot's start), the first start asks for
     * the snapshot of the table's existing rows. The request has a fixed id: later starts find it and add nothing.
     */
    private void requestInitialSnapshot() {
        if (!source.initialSnapshot()) {
            return;
        }
        try {
            while (!stopping && !received && !source.ready()) {
                Thread.sleep(200);
            }
            if (!stopping && source.requestSnapshot("tributary-initial-snapshot")) {
                progress.requested(source.estimatedRows());
                LOG.infof("pipeline %s: snapshot of %s requested (about %d rows); changes stream meanwhile", pipeline,
                        source.table(), progress.estimated());
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (SQLException ex) {
            LOG.warnf("pipeline %s: snapshot not requested yet (%s); requested at the next start", pipeline,
                    Failures.describe(ex));
        }
    }

    private void handle(List<RecordChangeEvent<SourceRecord>> events,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        received = true;
        List<OutboxRecord> records = new ArrayList<>(events.size());
        int snapshotRows = 0;
        String signalTopic = source.signalTopic();
        for (RecordChangeEvent<SourceRecord> event : events) {
            SourceRecord r = event.record();
            if (ChangeEvents.kind(r, signalTopic) == ChangeEvents.Kind.CHANGE) {
                records.add(ChangeEvents.toRecord(ids.incrementAndGet(), r));
                if (ChangeEvents.snapshot(r)) {
                    snapshotRows++;
                }
            }
        }
        if (!records.isEmpty()) {
            publish(records);
        }
        for (RecordChangeEvent<SourceRecord> event : events) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
        progress.rows(snapshotRows);
        streamed.addAndGet(records.size() - snapshotRows);
    }

    /** Until Kafka or the spool took the batch, or the reader stops (then nothing is marked and it comes again). */
    private void publish(List<OutboxRecord> records) throws InterruptedException {
        long pause = 200;
        while (true) {
            try {
                publisher.publish(records);
                return;
            } catch (Exception e) {
                if (stopping || Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("stopping; " + records.size() + " record(s) are read again");
                }
                long now = System.currentTimeMillis();
                if (now - lastFailureAt > 10_000) {
                    LOG.warnf("pipeline %s: %d captured record(s) not published (%s); retried, the reader waits",
                            pipeline, records.size(), Failures.describe(e));
                }
                lastFailureAt = now;
                Thread.sleep(pause);
                pause = Math.min(pause * 2, 5_000);
            }
        }
    }

    /** Stops the reader; a batch in flight is not marked and is read again at the next start. */
    public synchronized void stop() {
        stopping = true;
        state = "STOPPED";
        try {
            if (engine != null) {
                engine.close();
            }
        } catch (Exception e) {
            LOG.warnf("pipeline %s: change log reader did not close cleanly: %s", pipeline, Failures.describe(e));
        }
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor = null;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
