package tributary.outbox;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.sql.DataSource;

/** The SQL side of one pipeline's outbox: claims, status changes, retention and backlog. */
public class OutboxStore {

    /** Outbox statuses; the strings are what the status column holds. */
    public enum Status {
        PENDING, PROCESSING, ENQUEUED, SPOOLED, PARKED, DONE, FAILED, DEAD, FILTERED
    }

    /** Rows per status with the creation time of the oldest row in each and the latest status change. */
    public record Backlog(Map<Status, Long> counts, Map<Status, Instant> oldest, Map<Status, Instant> latestChange) {

        /** When a row last became DEAD (among rows still kept), or null. */
        public Instant lastDeadAt() {
            return latestChange.get(Status.DEAD);
        }

        /** Creation time of the oldest row that is not yet final (DONE, DEAD or FILTERED), or null. */
        public Instant oldestUnfinished() {
            return oldest.entrySet().stream()
                    .filter(e -> e.getKey() != Status.DONE && e.getKey() != Status.DEAD && e.getKey() != Status.FILTERED)
                    .map(Map.Entry::getValue).min(Comparator.naturalOrder()).orElse(null);
        }
    }

    private final DataSource ds;
    private final OutboxTable table;
    private final OutboxSql sql;
    private final String aggregate;
    private final String nodeId;
    private final Set<String> deleteValues;
    private final Set<String> upsertValues;
    private final Duration ackTimeout;
    private volatile long lastReclaim = System.nanoTime() - 60_000_000_000L;
    /**
     * Per collect worker's slice: the id after which its next claim starts while a backlog drains (0 for from the
     * first due row), and since when it has not started from the first due row.
     */
    private final java.util.concurrent.ConcurrentMap<Integer, long[]> floors = new java.util.concurrent.ConcurrentHashMap<>();

    public OutboxStore(DataSource ds, OutboxTable table, String aggregate, String nodeId, List<String> deleteValues) {
        this(ds, table, aggregate, nodeId, deleteValues, Duration.ofMinutes(30));
    }

    public OutboxStore(DataSource ds, OutboxTable table, String aggregate, String nodeId, List<String> deleteValues,
            Duration ackTimeout) {
        this(ds, table, aggregate, nodeId, deleteValues, List.of(), ackTimeout);
    }

    /**
     * @param upsertValues operation values that mean upsert; when empty, every value that is not a delete value is
     *        an upsert (Debezium's layout, where the column holds an event type)
     */
    public OutboxStore(DataSource ds, OutboxTable table, String aggregate, String nodeId, List<String> deleteValues,
            List<String> upsertValues, Duration ackTimeout) {
        this.ackTimeout = ackTimeout;
        this.upsertValues = upsertValues.stream().map(v -> v.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
        this.ds = ds;
        this.table = table;
        this.sql = new OutboxSql(table, aggregate != null);
        this.aggregate = aggregate;
        this.nodeId = nodeId;
        this.deleteValues = deleteValues.stream().map(v -> v.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
    }

    private static final long FLOOR_RESCAN_NANOS = 1_000_000_000L;

    /** Claims up to {@code limit} due rows for this replica, in id order. */
    public List<OutboxRecord> claim(int limit, Duration lease, int maxAttempts) throws SQLException {
        return claim(limit, Long.MAX_VALUE, lease, maxAttempts);
    }

    /** Claims up to {@code limit} due rows and about {@code maxBytes} of payload for this replica, in id order. */
    public List<OutboxRecord> claim(int limit, long maxBytes, Duration lease, int maxAttempts) throws SQLException {
        return claim(0, 1, limit, maxBytes, lease, maxAttempts);
    }

    /**
     * Claims as {@link #claim(int, long, Duration, int)}, only rows whose key hashes into {@code slice} of
     * {@code slices}: each collect worker of a pipeline claims its own slice, so no key is in two workers' batches.
     */
    public List<OutboxRecord> claim(int slice, int slices, int limit, long maxBytes, Duration lease, int maxAttempts)
            throws SQLException {
        return claim(slice, null, slices, limit, maxBytes, lease, maxAttempts);
    }

    /**
     * Claims as {@link #claim(int, long, Duration, int)}, only rows of the key slices this replica owns and made
     * ready ({@link KeySlices}), of collect worker {@code worker}'s share of them. In the claim's transaction each of
     * those slices is held shared in the gate a replica taking a slice over waits on, so a claim that read the old
     * ownership has committed (and its rows count as in flight) before the new owner looks.
     */
    public List<OutboxRecord> claim(KeySlices.View owned, int worker, int workers, int limit, long maxBytes,
            Duration lease, int maxAttempts) throws SQLException {
        if (owned.ready().length == 0) {
            return List.of();
        }
        return claim(worker, owned, workers, limit, maxBytes, lease, maxAttempts);
    }

    private List<OutboxRecord> claim(int worker, KeySlices.View owned, int workers, int limit, long maxBytes,
            Duration lease, int maxAttempts) throws SQLException {
        long now = System.nanoTime();
        if (now - lastReclaim >= Math.min(1_000_000_000L, lease.toNanos() / 4)) {
            reclaimExpired(lease);
            lastReclaim = now;
        }
        // While claims come back full, each starts after the last: rows already claimed are neither walked
        // again in the claim index nor, with statistics taken while the backlog was pending, read in id order
        // through the primary key (40 ms a claim after 60,000 claimed rows, growing with the backlog). A partial
        // claim, every second anyway, and a change of the slices owned start from the first due row again: retries
        // that came due, rows a transaction committed late under a lower id and rows another replica released wait
        // at most that long.
        long generation = owned == null ? 0 : owned.generation();
        long[] floor = floors.computeIfAbsent(worker, s -> new long[3]);
        long from;
        synchronized (floor) {
            from = floor[0] > 0 && now - floor[1] <= FLOOR_RESCAN_NANOS && floor[2] == generation ? floor[0] : 0;
        }
        try (Connection c = ds.getConnection()) {
            List<OutboxRecord> rows = claim(c, from, owned, workers > 1 || owned != null ? new int[] { workers, worker }
                    : null, limit, maxBytes, maxAttempts);
            synchronized (floor) {
                floor[2] = generation;
                if (rows.size() < limit) {
                    floor[0] = 0;
                } else {
                    if (from == 0) {
                        floor[1] = now;
                    }
                    floor[0] = rows.get(rows.size() - 1).id();
                }
            }
            return rows;
        }
    }

    /**
     * The claim's transaction in one round trip: two statements sent together and committed at the protocol's sync
     * (autocommit), so the first statement's locks and plan setting hold for the second. The first holds the
     * claim's slices shared in the hand-over gate until the claim commits, or only sets the claim's plan.
     */
    private List<OutboxRecord> claim(Connection c, long after, KeySlices.View owned, int[] slice, int limit,
            long maxBytes, int maxAttempts) throws SQLException {
        String claim = owned != null ? KeySlices.GATE_SHARED + ";\n" + sql.claimOwned()
                : OutboxSql.CLAIM_PLAN + ";\n" + sql.claim(slice != null);
        try (PreparedStatement ps = c.prepareStatement(claim)) {
            int i = 1;
            if (owned != null) {
                ps.setInt(i++, owned.gateKey());
                ps.setArray(i++, ints(c, owned.ready()));
            }
            ps.setString(i++, nodeId);
            i = bindScope(ps, i);
            ps.setInt(i++, maxAttempts);
            ps.setLong(i++, after);
            if (owned != null) {
                ps.setInt(i++, owned.keySlices());
                ps.setLong(i++, owned.ownerKey());
                ps.setInt(i++, owned.ownerPid());
                ps.setArray(i++, ints(c, owned.ready()));
                ps.setInt(i++, owned.keySlices());
            }
            if (slice != null) {
                ps.setInt(i++, slice[0]);
                ps.setInt(i++, slice[1]);
            }
            ps.setInt(i++, limit);
            ps.setLong(i, maxBytes);
            List<OutboxRecord> rows = new ArrayList<>(limit);
            ps.execute(); // the gate's or the plan's row first
            if (!ps.getMoreResults()) {
                throw new SQLException("the claim returned no result set");
            }
            try (ResultSet rs = ps.getResultSet()) {
                while (rs.next()) {
                    long version = rs.getLong(3);
                    Long versionOrNull = rs.wasNull() ? null : version;
                    String op = rs.getString(4);
                    String normalized = op == null ? null : op.toUpperCase(Locale.ROOT);
                    boolean delete = normalized != null && deleteValues.contains(normalized);
                    rows.add(new OutboxRecord(rs.getLong(1), rs.getString(2), versionOrNull, delete, rs.getString(5),
                            instant(rs.getTimestamp(6)), rs.getInt(7), delete ? null : operationProblem(op, normalized)));
                }
            }
            // RETURNING has no order; publishing in id order keeps a key's versions in order on the topic.
            rows.sort(Comparator.comparingLong(OutboxRecord::id));
            return rows;
        }
    }

    /** Which of {@code slices} (of {@code keySlices}) still have rows in flight: claimed or spooled. */
    public Set<Integer> slicesInFlight(int[] slices, int keySlices) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.slicesInFlight())) {
            Array array = ints(c, slices);
            int i = 1;
            for (int part = 0; part < 2; part++) {
                ps.setInt(i++, keySlices);
                i = bindScope(ps, i);
                ps.setInt(i++, keySlices);
                ps.setArray(i++, array);
            }
            Set<Integer> busy = new java.util.TreeSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    busy.add(rs.getInt(1));
                }
            }
            return busy;
        }
    }

    /** Rows this node claimed before {@code startedAt} (its previous process) in the slices go back to PENDING. */
    public int releaseStale(int[] slices, int keySlices, Timestamp startedAt) throws SQLException {
        return update(sql.releaseStale(), ps -> {
            int i = bindScope(ps, 1);
            ps.setString(i++, nodeId);
            ps.setTimestamp(i++, startedAt);
            ps.setInt(i++, keySlices);
            ps.setArray(i, ints(ps.getConnection(), slices));
        });
    }

    private String operationProblem(String op, String normalized) {
        if (upsertValues.isEmpty() || normalized != null && upsertValues.contains(normalized)) {
            return null;
        }
        String shown = op == null ? "NULL" : "'" + Reasons.clean(op.length() > 64 ? op.substring(0, 64) + "…" : op) + "'";
        return "operation " + shown + " is neither an upsert value " + new java.util.TreeSet<>(upsertValues)
                + " nor a delete value " + new java.util.TreeSet<>(deleteValues);
    }

    public int markEnqueued(long[] ids) throws SQLException {
        return update(sql.markEnqueued(), ps -> {
            ps.setArray(1, ids(ps.getConnection(), ids));
            ps.setString(2, nodeId);
        });
    }

    public int markSpooled(long[] ids) throws SQLException {
        return update(sql.markSpooled(), ps -> {
            ps.setArray(1, ids(ps.getConnection(), ids));
            ps.setString(2, nodeId);
        });
    }

    public int markReplayed(long[] ids) throws SQLException {
        return byIds(sql.markReplayed(), ids);
    }

    /** Published or spooled rows past the ack timeout go back to PENDING. */
    public int requeueUnacked() throws SQLException {
        return requeue(sql.requeueUnpublished(), 1);
    }

    /** Published or spooled rows past {@code factor} times the ack timeout go back to PENDING. */
    public int requeueUnacked(int factor) throws SQLException {
        return requeue(sql.requeueUnpublished(), factor);
    }

    /** Parked rows (data only in a primary spool) past the ack timeout go back to PENDING. */
    public int requeueParked() throws SQLException {
        return requeue(sql.requeueParked(), 1);
    }

    private int requeue(String statement, int factor) throws SQLException {
        return update(statement, ps -> {
            int i = bindScope(ps, 1);
            ps.setDouble(i, factor * (ackTimeout.toMillis() / 1000.0));
        });
    }

    /** Hands claimed rows back untouched, without counting the attempt (Kafka and the spool could not take them). */
    public int release(long[] ids) throws SQLException {
        return update(sql.release(), ps -> {
            ps.setArray(1, ids(ps.getConnection(), ids));
            ps.setString(2, nodeId);
        });
    }

    /** Rows whose records only a primary spool holds. */
    public int markParked(long[] ids) throws SQLException {
        return byIds(sql.markParked(), ids);
    }

    /** Binds an id array and the aggregate scope. */
    private int byIds(String statement, long[] ids) throws SQLException {
        return update(statement, ps -> {
            ps.setArray(1, ids(ps.getConnection(), ids));
            bindScope(ps, 2);
        });
    }

    public int requeueSpooled() throws SQLException {
        return update(sql.requeueSpooled(), ps -> {
            ps.setString(1, nodeId);
            bindScope(ps, 2);
        });
    }

    /** Marks acked rows DONE, or deletes them when {@code deleteAtAck} (retention 0). */
    public int markDone(long[] ids, boolean deleteAtAck) throws SQLException {
        return byIds(deleteAtAck ? sql.deleteAcked() : sql.markDone(), ids);
    }

    /**
     * Claimed rows a cleaning rule filtered out: final without reaching Kafka, or deleted at once when DONE rows
     * are (retention.done=0). The reason names the rule only.
     */
    public int markFiltered(long[] ids, String reason, boolean deleteAtAck) throws SQLException {
        if (ids.length == 0) {
            return 0;
        }
        if (deleteAtAck) {
            return update(sql.deleteFiltered(), ps -> {
                ps.setArray(1, ids(ps.getConnection(), ids));
                ps.setString(2, nodeId);
            });
        }
        return update(sql.markFiltered(), ps -> {
            ps.setString(1, Reasons.clean(reason));
            ps.setArray(2, ids(ps.getConnection(), ids));
            ps.setString(3, nodeId);
        });
    }

    public int markFailed(long[] ids, String reason, Duration backoff) throws SQLException {
        return update(sql.markFailed(), ps -> {
            ps.setString(1, Reasons.clean(reason));
            ps.setDouble(2, backoff.toMillis() / 1000.0);
            ps.setArray(3, ids(ps.getConnection(), ids));
            ps.setString(4, nodeId);
        });
    }

    /** Marks each row DEAD with its own reason, in one batch; returns how many rows became DEAD. */
    public int markDead(Map<Long, String> reasons) throws SQLException {
        if (reasons.isEmpty()) {
            return 0;
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.markDead())) {
            for (Map.Entry<Long, String> e : reasons.entrySet()) {
                ps.setString(1, Reasons.clean(e.getValue()));
                ps.setLong(2, e.getKey());
                bindScope(ps, 3);
                ps.addBatch();
            }
            int dead = 0;
            for (int n : ps.executeBatch()) {
                dead += Math.max(n, 0);
            }
            return dead;
        }
    }

    public int buryExhausted(Duration lease, int maxAttempts) throws SQLException {
        reclaimExpired(lease);
        return update(sql.buryExhausted(), ps -> {
            int i = bindScope(ps, 1);
            ps.setInt(i, maxAttempts);
        });
    }

    /**
     * Rows claimed longer ago than the lease and never acked (their replica died) become PENDING again. Run before
     * claims at most every second (a quarter of the lease when shorter), and by retention.
     */
    public int reclaimExpired(Duration lease) throws SQLException {
        return update(sql.reclaimExpired(), ps -> {
            int i = bindScope(ps, 1);
            ps.setDouble(i, lease.toMillis() / 1000.0);
        });
    }

    /** Deletes final rows older than {@code age} in batches of {@code batch}; returns rows deleted. */
    public long purge(Status status, Duration age, int batch) throws SQLException {
        long total = 0;
        int deleted;
        do {
            deleted = update(sql.purge(status.name()), ps -> {
                int i = bindScope(ps, 1);
                ps.setDouble(i++, age.toMillis() / 1000.0);
                ps.setInt(i++, batch);
                i = bindScope(ps, i);
                ps.setDouble(i, age.toMillis() / 1000.0);
            });
            total += deleted;
        } while (deleted == batch);
        return total;
    }

    /**
     * Rows per unfinished status and DEAD, reading at most {@code limit} rows of each group (PENDING and FAILED;
     * PROCESSING; ENQUEUED, SPOOLED and PARKED; DEAD): a group at the limit counts the limit.
     */
    public Backlog backlog(int limit) throws SQLException {
        Map<Status, Long> counts = new EnumMap<>(Status.class);
        Map<Status, Instant> oldest = new EnumMap<>(Status.class);
        Map<Status, Instant> latest = new EnumMap<>(Status.class);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.backlog())) {
            int i = 1;
            for (int group = 0; group < 4; group++) {
                i = bindScope(ps, i);
                ps.setInt(i++, limit);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Status status = Status.valueOf(rs.getString(1));
                    counts.put(status, rs.getLong(2));
                    oldest.put(status, instant(rs.getTimestamp(3)));
                    latest.put(status, instant(rs.getTimestamp(4)));
                }
            }
        }
        return new Backlog(counts, oldest, latest);
    }

    /** Creates the table when missing and applies the migrations it lacks (demo, tests, create-table=true). */
    public void createTable() throws SQLException {
        migrations().migrate();
    }

    /**
     * Checks that the table has every migration this version needs; a table that lacks one fails start-up naming
     * it and the statements that apply it: with create-table off, Tributary does not alter a business table.
     */
    public void checkColumns(String configKey) throws SQLException {
        migrations().check(configKey);
    }

    /** The table's versioned migrations, recorded in {@code <table>_tributary} beside it. */
    public tributary.migrate.TableMigrations migrations() {
        String quoted = table.table();
        int dot = quoted.indexOf("\".\"");
        String schema = dot < 0 ? null : quoted.substring(1, dot);
        return new tributary.migrate.TableMigrations(ds, schema, quoted, sql.simpleName() + "_tributary",
                sql.migrations());
    }

    private int bindScope(PreparedStatement ps, int index) throws SQLException {
        if (aggregate != null) {
            ps.setString(index++, aggregate);
        }
        return index;
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private int update(String statement, Binder binder) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(statement)) {
            binder.bind(ps);
            return ps.executeUpdate();
        }
    }

    private static Array ids(Connection c, long[] ids) throws SQLException {
        Long[] boxed = new Long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            boxed[i] = ids[i];
        }
        return c.createArrayOf("bigint", boxed);
    }

    private static Array ints(Connection c, int[] values) throws SQLException {
        Integer[] boxed = new Integer[values.length];
        for (int i = 0; i < values.length; i++) {
            boxed[i] = values[i];
        }
        return c.createArrayOf("integer", boxed);
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

}
