package tributary.pipeline;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.ExchangeProperty;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.failover.Failures;
import tributary.failover.TargetHealth;
import tributary.kafka.SyncLag;
import tributary.outbox.OutboxStore;
import tributary.outbox.OutboxStore.Status;

/** Retention of outbox rows and tombstones, and the backlog every pipeline reports. */
@ApplicationScoped
@Named(Maintenance.NAME)
public class Maintenance {

    public static final String NAME = "maintenance";
    private static final Logger LOG = Logger.getLogger(Maintenance.class);

    /** The latest backlog reading of a pipeline, with when it was taken. */
    public record Reading(OutboxStore.Backlog backlog, Instant at) {

        public Duration oldestUnfinishedAge() {
            Instant oldest = backlog.oldestUnfinished();
            return oldest == null ? Duration.ZERO : Duration.between(oldest, at);
        }
    }

    private final Pipelines pipelines;
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();
    private final Map<String, Instant> lastLogged = new ConcurrentHashMap<>();

    private final TargetHealth health;
    private final SyncLag lag;
    private final DeadRows deadRows;

    public Maintenance(Pipelines pipelines, TargetHealth health, SyncLag lag, DeadRows deadRows) {
        this.pipelines = pipelines;
        this.health = health;
        this.lag = lag;
        this.deadRows = deadRows;
    }

    /** Deletes expired DONE, FILTERED and DEAD rows and tombstones, in bounded batches; buries exhausted rows. */
    public void retain(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        var retention = p.config().retention();
        if (p.capturesTable()) {
            long tombstones = p.primary().purgeTombstones(retention.tombstones(), retention.batchSize());
            if (tombstones > 0) {
                LOG.infof("pipeline %s retention: %d tombstones purged", pipeline, tombstones);
            }
            return;
        }
        int buried = p.outbox().buryExhausted(p.config().lease(), p.config().maxAttempts());
        deadRows.add(pipeline, buried);
        redrive(p);
        long done = retention.done().isZero() ? 0 : p.outbox().purge(Status.DONE, retention.done(), retention.batchSize())
                + p.outbox().purge(Status.FILTERED, retention.done(), retention.batchSize());
        long dead = p.outbox().purge(Status.DEAD, retention.dead(), retention.batchSize());
        long tombstones = p.primary().purgeTombstones(retention.tombstones(), retention.batchSize());
        if (buried + done + dead + tombstones > 0) {
            LOG.infof("pipeline %s retention: %d DONE or FILTERED and %d DEAD rows purged, %d tombstones purged, %d rows DEAD "
                    + "after %d attempts", pipeline, done, dead, tombstones, buried, p.config().maxAttempts());
        }
    }

    /**
     * Rows whose ack did not come within the ack timeout are published again, but only while nothing says the ack
     * may still be on its way: published rows wait while Kafka is out, this replica's enqueue spool holds records,
     * or the sync or ack consumers are behind; parked rows wait while the primary is out or this replica's primary
     * spool holds records. A parked row whose spool was lost (a replica scaled away, a volume gone) is re-driven.
     */
    private void redrive(Pipeline p) throws SQLException {
        if (health.isUp(Pipeline.KAFKA) && p.enqueueSpool().isEmptyQuietly()) {
            // Under steady load consumers always trail a little: while they are behind, wait four ack timeouts
            // instead of one rather than never re-driving a lost record.
            int factor = 1;
            try {
                factor = lag.behind(p) == 0 ? 1 : BEHIND_FACTOR;
            } catch (Exception e) {
                factor = BEHIND_FACTOR;
                LOG.warnf("pipeline %s: consumer lag unknown (%s); unacked rows wait %d ack timeouts", p.name(),
                        Failures.describe(e), BEHIND_FACTOR);
            }
            report(p, p.outbox().requeueUnacked(factor), "published");
        }
        if (health.isUp(p.primaryName()) && p.primarySpool().isEmptyQuietly()) {
            report(p, p.outbox().requeueParked(), "parked in a primary spool");
        }
    }

    /** How many ack timeouts unacked rows wait while the consumers are behind. */
    static final int BEHIND_FACTOR = 4;

    private static void report(Pipeline p, int rows, String what) {
        if (rows > 0) {
            LOG.warnf("pipeline %s: %d row(s) %s and not acked within %s are published again", p.name(), rows, what,
                    p.config().ackTimeout());
        }
    }

    /** Reads the outbox backlog; logs it at the configured rate. */
    public Reading observe(@ExchangeProperty(Exchanges.PIPELINE) String pipeline) throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        Reading reading = new Reading(p.outbox().backlog(p.config().backlog().countLimit()), Instant.now());
        readings.put(pipeline, reading);
        Instant last = lastLogged.get(pipeline);
        if (last == null || Duration.between(last, reading.at()).compareTo(p.config().backlog().logInterval()) >= 0) {
            lastLogged.put(pipeline, reading.at());
            LOG.infof("pipeline %s outbox: %s, oldest unfinished row %d s old", pipeline, reading.backlog().counts(),
                    reading.oldestUnfinishedAge().toSeconds());
        }
        return reading;
    }

    /** The latest reading, or null before the first one. */
    public Reading reading(String pipeline) {
        return readings.get(pipeline);
    }
}
