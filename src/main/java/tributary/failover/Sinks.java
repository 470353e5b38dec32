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

    public void write(Pipeline p, SyncBatch batch) throws SQLException, IOException {
        if (batch.records().isEmpty()) {
            return;
        }
        if (health.isUp(p.primaryName())) {
            try {
                writeIsolatingPoison(p.primary(), batch);
                return;
            } catch (SQLException e) {
                health.failed(p.primaryName(), e);
            }
        }
        if (p.standby().isPresent() && health.isUp(p.standbyName().orElseThrow())) {
            try {
                writeIsolatingPoison(p.standby().get(), batch);
            } catch (SQLException e) {
                health.failed(p.standbyName().orElseThrow(), e);
            }
        }
        p.primarySpool().append(entries(batch.records()));
        LOG.debugf("pipeline %s: %d records spooled for the primary", p.name(), batch.records().size());
    }

    /**
     * Writes the batch; a permanent failure means a record the database rejects for its data, so the batch is
     * written record by record and the rejected ones become poison. Transient failures propagate.
     */
    static void writeIsolatingPoison(TargetWriter writer, SyncBatch batch) throws SQLException {
        try {
            writer.write(batch.records());
        } catch (SQLException e) {
            if (Failures.isTransient(e)) {
                throw e;
            }
            List<SyncRecord> written = new ArrayList<>();
            for (SyncRecord r : batch.records()) {
                try {
                    writer.write(List.of(r));
                    written.add(r);
                } catch (SQLException one) {
                    if (Failures.isTransient(one)) {
                        throw one;
                    }
                    batch.poison().add(new SyncBatch.Poison(r.envelope().outboxId(), r.key(), r.sealed(),
                            "rejected by the target: " + one.getMessage()));
                }
            }
            batch.records().retainAll(written);
        }
    }

    public static List<Spool.Entry> entries(List<SyncRecord> records) {
        List<Spool.Entry> entries = new ArrayList<>(records.size());
        for (SyncRecord r : records) {
            entries.add(new Spool.Entry(r.key(), r.envelope().outboxId(), r.sealed()));
        }
        return entries;
    }
}
