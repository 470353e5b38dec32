package tributary.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

/** Writes opened records into one target table: one transaction per batch, version-guarded, tombstones kept. */
public class TargetWriter {

    private static final Logger LOG = Logger.getLogger(TargetWriter.class);

    private final AtomicLong older = new AtomicLong();
    private final AtomicLong conflicting = new AtomicLong();
    private final DataSource ds;
    private final TargetSql sql;
    private final boolean create;
    private volatile boolean created;

    public TargetWriter(DataSource ds, TargetSql sql) {
        this(ds, sql, false);
    }

    /** @param create create the table and view before the first write (when the database is reachable) */
    public TargetWriter(DataSource ds, TargetSql sql, boolean create) {
        this.ds = ds;
        this.sql = sql;
        this.create = create;
    }

    public void createTable() throws SQLException {
        try (Connection c = ds.getConnection(); var st = c.createStatement()) {
            st.execute(sql.createTable());
        }
        created = true;
    }


    /**
     * Upserts the batch in one transaction and returns how many rows changed. Older versions of a key in the same
     * batch are superseded before the statement; keys are sorted so concurrent writers lock in one order.
     */
    public int write(Collection<SyncRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return 0;
        }
        if (create && !created) {
            // The target may have been down at start-up: create its table before the first write reaches it.
            createTable();
        }
        List<SyncRecord> rows = List.copyOf(newestPerKey(records).values());
        int n = rows.size();
        String[] keys = new String[n];
        Long[] versions = new Long[n];
        String[] payloads = new String[n];
        Boolean[] deleted = new Boolean[n];
        Long[] created = new Long[n];
        for (int i = 0; i < n; i++) {
            SyncRecord r = rows.get(i);
            keys[i] = r.key();
            versions[i] = r.envelope().version();
            deleted[i] = r.envelope().delete();
            payloads[i] = r.envelope().delete() ? null : r.envelope().payload();
            created[i] = r.envelope().createdAtMicros();
        }
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(sql.upsert())) {
                ps.setArray(1, c.createArrayOf("text", keys));
                ps.setArray(2, c.createArrayOf("bigint", versions));
                ps.setArray(3, c.createArrayOf("text", payloads));
                ps.setArray(4, c.createArrayOf("boolean", deleted));
                ps.setArray(5, c.createArrayOf("bigint", created));
                int changed = ps.executeUpdate();
                if (changed < n) {
                    notApplied(c, n - changed, keys, versions, payloads);
                }
                c.commit();
                return changed;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /**
     * Records the version guard turned away: counted, and those whose version equals the target's with another
     * payload reported (counts only: payloads are business data).
     */
    private void notApplied(Connection c, int rejected, String[] keys, Long[] versions, String[] payloads)
            throws SQLException {
        older.addAndGet(rejected);
        try (PreparedStatement ps = c.prepareStatement(sql.sameVersionOtherPayload())) {
            ps.setArray(1, c.createArrayOf("text", keys));
            ps.setArray(2, c.createArrayOf("bigint", versions));
            ps.setArray(3, c.createArrayOf("text", payloads));
            try (var rs = ps.executeQuery()) {
                long same = rs.next() ? rs.getLong(1) : 0;
                if (same > 0) {
                    conflicting.addAndGet(same);
                    LOG.warnf("%s: %d record(s) carried a version the target already holds with a different payload; "
                            + "the target kept its row (versions must change with the data)", sql.table(), same);
                }
            }
        }
    }

    /** Records not applied because the target already held a newer or equal version. */
    public long olderRecords() {
        return older.get();
    }

    /** Of those, records whose version equalled the target's while the payload differed. */
    public long conflictingRecords() {
        return conflicting.get();
    }

    /** The newest version per key, in key order; a delete wins a tie with an upsert of the same version. */
    static Map<String, SyncRecord> newestPerKey(Collection<SyncRecord> records) {
        Map<String, SyncRecord> newest = new TreeMap<>();
        for (SyncRecord r : records) {
            newest.merge(r.key(), r, (a, b) -> {
                long va = a.envelope().version();
                long vb = b.envelope().version();
                if (va != vb) {
                    return va > vb ? a : b;
                }
                return b.envelope().delete() ? b : a;
            });
        }
        return newest;
    }

    /** Deletes tombstones older than {@code age} in batches; returns how many went. */
    public long purgeTombstones(Duration age, int batch) throws SQLException {
        if (create && !created) {
            createTable();
        }
        long total = 0;
        int deleted;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.purgeTombstones())) {
            do {
                ps.setDouble(1, age.toMillis() / 1000.0);
                ps.setInt(2, batch);
                ps.setDouble(3, age.toMillis() / 1000.0);
                deleted = ps.executeUpdate();
                total += deleted;
            } while (deleted == batch);
        }
        return total;
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
