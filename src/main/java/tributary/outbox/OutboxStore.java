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
        PENDING, PROCESSING, ENQUEUED, SPOOLED, DONE, FAILED, DEAD
    }

    /** Rows per status with the creation time of the oldest row in each. */
    public record Backlog(Map<Status, Long> counts, Map<Status, Instant> oldest) {

        /** Creation time of the oldest row that is not yet final (DONE or DEAD), or null. */
        public Instant oldestUnfinished() {
            return oldest.entrySet().stream()
                    .filter(e -> e.getKey() != Status.DONE && e.getKey() != Status.DEAD)
                    .map(Map.Entry::getValue).min(Comparator.naturalOrder()).orElse(null);
        }
    }

    private final DataSource ds;
    private final OutboxSql sql;
    private final String aggregate;
    private final String nodeId;
    private final Set<String> deleteValues;
    private final Duration ackTimeout;

    public OutboxStore(DataSource ds, OutboxTable table, String aggregate, String nodeId, List<String> deleteValues) {
        this(ds, table, aggregate, nodeId, deleteValues, Duration.ofMinutes(30));
    }

    public OutboxStore(DataSource ds, OutboxTable table, String aggregate, String nodeId, List<String> deleteValues,
            Duration ackTimeout) {
        this.ackTimeout = ackTimeout;
        this.ds = ds;
        this.sql = new OutboxSql(table, aggregate != null);
        this.aggregate = aggregate;
        this.nodeId = nodeId;
        this.deleteValues = deleteValues.stream().map(v -> v.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
    }

    /** Claims up to {@code limit} due rows for this replica, in id order. */
    public List<OutboxRecord> claim(int limit, Duration lease, int maxAttempts) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.claim())) {
            int i = 1;
            ps.setString(i++, nodeId);
            i = bindScope(ps, i);
            ps.setDouble(i++, lease.toMillis() / 1000.0);
            ps.setInt(i++, maxAttempts);
            ps.setInt(i, limit);
            List<OutboxRecord> rows = new ArrayList<>(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String op = rs.getString(4);
                    long version = rs.getLong(3);
                    rows.add(new OutboxRecord(rs.getLong(1), rs.getString(2), rs.wasNull() ? null : version,
                            op != null && deleteValues.contains(op.toUpperCase(Locale.ROOT)), rs.getString(5),
                            instant(rs.getTimestamp(6)), rs.getInt(7)));
                }
            }
            // RETURNING has no order; publishing in id order keeps a key's versions in order on the topic.
            rows.sort(Comparator.comparingLong(OutboxRecord::id));
            return rows;
        }
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
        return update(sql.markReplayed(), ps -> ps.setArray(1, ids(ps.getConnection(), ids)));
    }

    /** Unacked rows past the ack timeout go back to PENDING. */
    public int requeueUnacked() throws SQLException {
        return update(sql.requeueUnacked(), ps -> {
            int i = bindScope(ps, 1);
            ps.setDouble(i, ackTimeout.toMillis() / 1000.0);
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
        return update(deleteAtAck ? sql.deleteAcked() : sql.markDone(),
                ps -> ps.setArray(1, ids(ps.getConnection(), ids)));
    }

    public int markFailed(long[] ids, String reason, Duration backoff) throws SQLException {
        return update(sql.markFailed(), ps -> {
            ps.setString(1, truncate(reason));
            ps.setDouble(2, backoff.toMillis() / 1000.0);
            ps.setArray(3, ids(ps.getConnection(), ids));
            ps.setString(4, nodeId);
        });
    }

    /** Marks each row DEAD with its own reason, in one batch. */
    public void markDead(Map<Long, String> reasons) throws SQLException {
        if (reasons.isEmpty()) {
            return;
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.markDead())) {
            for (Map.Entry<Long, String> e : reasons.entrySet()) {
                ps.setString(1, truncate(e.getValue()));
                ps.setLong(2, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    public int buryExhausted(Duration lease, int maxAttempts) throws SQLException {
        return update(sql.buryExhausted(), ps -> {
            int i = bindScope(ps, 1);
            ps.setDouble(i++, lease.toMillis() / 1000.0);
            ps.setInt(i, maxAttempts);
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
                ps.setInt(i, batch);
            });
            total += deleted;
        } while (deleted == batch);
        return total;
    }

    public Backlog backlog() throws SQLException {
        Map<Status, Long> counts = new EnumMap<>(Status.class);
        Map<Status, Instant> oldest = new EnumMap<>(Status.class);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.backlog())) {
            bindScope(ps, 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Status status = Status.valueOf(rs.getString(1));
                    counts.put(status, rs.getLong(2));
                    oldest.put(status, instant(rs.getTimestamp(3)));
                }
            }
        }
        return new Backlog(counts, oldest);
    }

    public void createTable() throws SQLException {
        try (Connection c = ds.getConnection(); var st = c.createStatement()) {
            st.execute(sql.createTable());
        }
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

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

    private static String truncate(String reason) {
        if (reason == null) {
            return null;
        }
        return reason.length() <= 2000 ? reason : reason.substring(0, 2000);
    }
}
