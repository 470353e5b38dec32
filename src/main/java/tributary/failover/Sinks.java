package tributary.failover;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.pipeline.Pipeline;
import tributary.sink.SyncBatch;
import tributary.sink.SyncRecord;
import tributary.sink.TargetWriter;
import tributary.spool.Spool;

/**
 * Where a sync batch goes: the primary while it is healthy; otherwise the standby (best effort) and the primary
 * spool, which must take it. When neither the primary nor the spool can, the failure goes back to the consumer,
 * which then holds the batch in Kafka and retries with backoff.
 */
@ApplicationScoped
public class Sinks {

    private static final Logger LOG = Logger.getLogger(Sinks.class);

    private final TargetHealth health;

    public Sinks(TargetHealth health) {
        this.health = health;
    }

    /**
     * Writes the batch; returns true when the primary committed it, false when only the primary spool (and, best
     * effort, the standby) holds it: then its rows are not done until the spool's replay reaches the primary.
     */
    public boolean write(Pipeline p, SyncBatch batch) throws SQLException, IOException {
        if (batch.records().isEmpty()) {
            return true;
        }
        if (health.isUp(p.primaryName())) {
            try {
                writeIsolatingPoison(p.primary(), batch);
                return true;
            } catch (SQLException e) {
                health.failed(p.primaryName(), e);
            }
        }
        if (p.standby().isPresent()) {
            standby(p, batch);
        }
        p.primarySpool().append(entries(batch.records()));
        LOG.debugf("pipeline %s: %d records spooled for the primary", p.name(), batch.records().size());
        return false;
    }

    /**
     * The standby takes the batch while the primary is out, best effort and on a copy (what the standby rejects
     * must still reach the primary spool); if it cannot, the standby spool keeps the batch for it.
     */
    private void standby(Pipeline p, SyncBatch batch) {
        String name = p.standbyName().orElseThrow();
        if (health.isUp(name)) {
            try {
                writeIsolatingPoison(p.standby().get(), new SyncBatch(new ArrayList<>(batch.records()), new ArrayList<>()));
                return;
            } catch (SQLException e) {
                health.failed(name, e);
            }
        }
        try {
            p.standbySpool().append(entries(batch.records()));
        } catch (IOException e) {
            LOG.warnf("pipeline %s: the standby spool cannot take a batch either (%s); the primary spool has it",
                    p.name(), Failures.describe(e));
        }
    }

    /**
     * Writes the batch. A record fault (the database rejects a record for its data) makes the batch go record by
     * record, and the rejected ones become poison; any other failure propagates as the target being unusable. The
     * batch is only changed once every record was tried.
     */
    public static void writeIsolatingPoison(TargetWriter writer, SyncBatch batch) throws SQLException {
        try {
            unfit(batch, writer.writeAll(batch.records()));
        } catch (SQLException e) {
            if (!Failures.isRecordFault(e)) {
                throw e;
            }
            List<SyncRecord> written = new ArrayList<>();
            List<SyncBatch.Poison> rejected = new ArrayList<>();
            for (SyncRecord r : batch.records()) {
                try {
                    TargetWriter.Written w = writer.writeAll(List.of(r));
                    if (w.unfit().isEmpty()) {
                        written.add(r);
                    } else {
                        rejected.add(poison(r, w.unfit().get(r)));
                    }
                } catch (SQLException one) {
                    if (!Failures.isRecordFault(one)) {
                        throw one;
                    }
                    // SQLState only: the server's message can quote the rejected values.
                    rejected.add(new SyncBatch.Poison(r.envelope().outboxId(), r.key(), r.sealed(),
                            "rejected by the target: " + Failures.describe(one)));
                }
            }
            if (!rejected.isEmpty()) {
                LOG.warnf("%d record(s) of a batch of %d rejected by the target for their data, e.g. outbox id %s: %s",
                        rejected.size(), batch.records().size(), rejected.get(0).outboxId(), rejected.get(0).reason());
            }
            batch.records().retainAll(written);
            batch.poison().addAll(rejected);
        }
    }

    /** Records that do not fit the target's columns leave the batch as poison, with the field and types named. */
    private static void unfit(SyncBatch batch, TargetWriter.Written written) {
        if (!written.unfit().isEmpty()) {
            batch.records().removeAll(written.unfit().keySet());
            written.unfit().forEach((r, reason) -> batch.poison().add(poison(r, reason)));
        }
    }

    private static SyncBatch.Poison poison(SyncRecord r, String reason) {
        return new SyncBatch.Poison(r.envelope().outboxId(), r.key(), r.sealed(), "does not fit the target: " + reason);
    }

    public static List<Spool.Entry> entries(List<SyncRecord> records) {
        List<Spool.Entry> entries = new ArrayList<>(records.size());
        for (SyncRecord r : records) {
            entries.add(new Spool.Entry(r.key(), r.envelope().outboxId(), r.sealed()));
        }
        return entries;
    }
}
