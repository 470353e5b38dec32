package tributary.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

/**
 * Writes into a target table in MariaDB (or MySQL through MariaDB's driver): the same table, version guard,
 * tombstones, typed columns and schema evolution as in PostgreSQL. A batch locks its keys' rows in key order, reads
 * their versions, and upserts only the rows whose version is newer, each guarded once more in the statement
 * ({@code INSERT … ON DUPLICATE KEY UPDATE} assigning every column only for a newer version, the version last).
 */
public final class MariaDbTargetWriter extends TargetWriter {

    private static final DateTimeFormatter DATETIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");
    /** Keys per locking read: far below MariaDB's 65,535 placeholders. */
    private static final int LOCK_CHUNK = 1_000;

    private final Map<String, String> comments = new HashMap<>();

    public MariaDbTargetWriter(DataSource ds, String table, boolean create, Settings settings) {
        super(ds, new MariaDbTargetSql(table, TargetShape.untyped(), "utf8mb4_nopad_bin"), create, check(settings));
    }

    /** Refuses, naming the column's key, a declared type MariaDB cannot hold exactly. */
    private static Settings check(Settings settings) {
        for (TargetColumn c : settings.shape().columns()) {
            try {
                MariaDbTargetSql.nativeType(c.type());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(settings.key().replaceAll("\\.table$", ".columns." + c.name()
                        + ".type") + ": " + e.getMessage(), e);
            }
        }
        return settings;
    }

    /** Keys collate binary and without padding; MySQL spells that collation its own way. */
    @Override
    protected TargetSql createdAs() {
        return ((MariaDbTargetSql) declared()).keysCollated(keyCollation());
    }

    private String keyCollation() {
        try (Connection c = dataSource().getConnection()) {
            return c.getMetaData().getDatabaseProductVersion().contains("MariaDB") ? "utf8mb4_nopad_bin"
                    : "utf8mb4_0900_bin";
        } catch (SQLException e) {
            return "utf8mb4_nopad_bin";
        }
    }

    @Override
    protected Map<String, String> ownColumns() {
        Map<String, String> own = new LinkedHashMap<>();
        own.put("business_key", "varchar(" + MariaDbTargetSql.KEY_LENGTH + ")");
        own.put("version", "bigint");
        own.put("deleted", "tinyint(1)");
        own.put("source_created_at", "datetime(6)");
        own.put("synced_at", "datetime(6)");
        return own;
    }

    @Override
    protected String typeName(ColumnType type) {
        return MariaDbTargetSql.nativeType(type);
    }

    @Override
    protected boolean fits(String actual, ColumnType declared) {
        if (declared.kind() == ColumnType.Kind.JSONB) {
            // MariaDB's json is longtext with a validity check; MySQL's is its own type.
            return "longtext".equals(actual) || "json".equals(actual);
        }
        return MariaDbTargetSql.nativeType(declared).equals(actual);
    }

    @Override
    protected ColumnType columnType(String column, String actual) {
        String comment = comments.get(column);
        if (comment != null && comment.startsWith(MariaDbTargetSql.COMMENT)) {
            ColumnType declared = ColumnType.parse(comment.substring(MariaDbTargetSql.COMMENT.length()));
            if (fits(actual, declared)) {
                return declared;
            }
        }
        ColumnType type = MariaDbTargetSql.fromNative(actual);
        if (type == null) {
            throw new IllegalArgumentException("type " + actual + " is not written");
        }
        return type;
    }

    @Override
    protected Map<String, String> catalog(Connection c) throws SQLException {
        Map<String, String> columns = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(MariaDbTargetSql.columns())) {
            ps.setString(1, declared().schema());
            ps.setString(2, declared().simpleName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    // Display widths say nothing about the values: int(11) is int (MySQL 8 no longer shows them).
                    String type = rs.getString(2).toLowerCase(java.util.Locale.ROOT)
                            .replaceAll("^(smallint|int|bigint)\\(\\d+\\)", "$1");
                    columns.put(rs.getString(1), type);
                    synchronized (comments) {
                        comments.put(rs.getString(1), rs.getString(3));
                    }
                }
            }
        }
        return columns;
    }

    @Override
    protected void addColumn(Statement st, String column, ColumnType type) throws SQLException {
        try {
            st.execute(declared().addColumn(column, type));
        } catch (SQLException e) {
            // 1060: duplicate column name; another replica added it first.
            if (e.getErrorCode() != 1060) {
                throw e;
            }
        }
    }

    @Override
    protected void replaceView(Connection c, Map<String, String> table) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(declared().liveView(List.copyOf(table.keySet())));
        }
    }

    @Override
    protected String lockTimeout(boolean set) {
        return set ? "SET SESSION lock_wait_timeout = 5" : "SET SESSION lock_wait_timeout = DEFAULT";
    }

    @Override
    protected String keyProblem(String key) {
        return key.codePointCount(0, key.length()) > MariaDbTargetSql.KEY_LENGTH ? "key is longer than "
                + MariaDbTargetSql.KEY_LENGTH + " characters, the longest a MariaDB target keys" : null;
    }

    /** Booleans as 1/0, times as UTC {@code datetime(6)} text; years outside 1000-9999 do not fit MariaDB's types. */
    @Override
    protected String columnValue(ColumnType type, String canonical) throws ColumnType.Unfit {
        if (canonical == null) {
            return null;
        }
        switch (type.kind()) {
            case BOOLEAN:
                return "true".equals(canonical) ? "1" : "0";
            case NUMERIC: {
                // A numeric without precision is held as decimal(65,30), which would round a longer value silently.
                java.math.BigDecimal d = new java.math.BigDecimal(canonical);
                if (type.precision() < 0 && (d.scale() > 30 || d.precision() - d.scale() > 35)) {
                    throw new ColumnType.Unfit("a JSON number value has more digits than MariaDB's decimal(65,30) "
                            + "holds, for type " + type.sql());
                }
                return canonical;
            }
            case DATE:
                return year(type, LocalDate.parse(canonical).getYear(), canonical);
            case TIMESTAMP: {
                LocalDateTime t = LocalDateTime.parse(canonical);
                year(type, t.getYear(), canonical);
                return DATETIME.format(t);
            }
            case TIMESTAMPTZ: {
                LocalDateTime t = OffsetDateTime.parse(canonical).withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime();
                year(type, t.getYear(), canonical);
                return DATETIME.format(t);
            }
            default:
                return canonical;
        }
    }

    private static String year(ColumnType type, int year, String value) throws ColumnType.Unfit {
        if (year < 1000 || year > 9999) {
            throw new ColumnType.Unfit("a JSON string value is outside the years 1000 to 9999 that MariaDB's "
                    + MariaDbTargetSql.nativeType(type) + " holds, for type " + type.sql());
        }
        return value;
    }

    @Override
    protected int upsert(TargetSql current, List<SyncRecord> rows, Map<SyncRecord, String[]> values)
            throws SQLException {
        MariaDbTargetSql sql = (MariaDbTargetSql) current;
        int columns = sql.shape().columns().size();
        try (Connection c = dataSource().getConnection()) {
            int isolation = c.getTransactionIsolation();
            // Read committed: locking a key that does not exist yet takes no gap lock another writer could wait on.
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            c.setAutoCommit(false);
            try {
                Map<String, Long> held = lockVersions(c, sql, rows);
                List<SyncRecord> newer = new ArrayList<>(rows.size());
                List<SyncRecord> same = new ArrayList<>();
                for (SyncRecord r : rows) {
                    Long v = held.get(r.key());
                    if (v == null || r.envelope().version() > v) {
                        newer.add(r);
                    } else if (r.envelope().version() == v) {
                        same.add(r);
                    }
                }
                int changed = 0;
                if (!newer.isEmpty()) {
                    try (PreparedStatement ps = c.prepareStatement(sql.upsert())) {
                        for (SyncRecord r : newer) {
                            int at = bindKey(ps, r);
                            ps.setBoolean(at++, r.envelope().delete());
                            ps.setString(at++, DATETIME.format(LocalDateTime.ofInstant(Instant.EPOCH.plusNanos(
                                    r.envelope().createdAtMicros() * 1000), ZoneOffset.UTC)));
                            bindData(ps, at, sql, r, values.get(r), columns);
                            ps.addBatch();
                        }
                        ps.executeBatch();
                        changed = newer.size();
                    }
                }
                if (changed < rows.size()) {
                    countNotApplied(rows.size() - changed, sameVersionOtherData(c, sql, same, values, columns));
                }
                c.commit();
                return changed;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
                c.setTransactionIsolation(isolation);
            }
        }
    }

    private static int bindKey(PreparedStatement ps, SyncRecord r) throws SQLException {
        ps.setString(1, r.key());
        ps.setLong(2, r.envelope().version());
        return 3;
    }

    private static void bindData(PreparedStatement ps, int at, TargetSql sql, SyncRecord r, String[] typed, int columns)
            throws SQLException {
        if (sql.shape().payload()) {
            ps.setString(at++, r.envelope().delete() ? null : r.envelope().payload());
        }
        for (int col = 0; col < columns; col++) {
            ps.setString(at++, typed == null ? null : typed[col]);
        }
    }

    /** Locks the rows of the batch's keys (sorted, so concurrent writers lock in one order) and reads their versions. */
    private static Map<String, Long> lockVersions(Connection c, MariaDbTargetSql sql, List<SyncRecord> rows)
            throws SQLException {
        Map<String, Long> held = new HashMap<>();
        for (int from = 0; from < rows.size(); from += LOCK_CHUNK) {
            List<SyncRecord> chunk = rows.subList(from, Math.min(rows.size(), from + LOCK_CHUNK));
            try (PreparedStatement ps = c.prepareStatement(sql.versions(chunk.size()))) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setString(i + 1, chunk.get(i).key());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        held.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
        }
        return held;
    }

    /** Of the records whose version the target holds already, those whose data differs (counted, never logged). */
    private static long sameVersionOtherData(Connection c, MariaDbTargetSql sql, List<SyncRecord> same,
            Map<SyncRecord, String[]> values, int columns) throws SQLException {
        if (same.isEmpty()) {
            return 0;
        }
        long differing = 0;
        try (PreparedStatement ps = c.prepareStatement(sql.sameVersionOtherPayload())) {
            for (SyncRecord r : same) {
                bindData(ps, bindKey(ps, r), sql, r, values.get(r), columns);
                try (ResultSet rs = ps.executeQuery()) {
                    differing += rs.next() ? rs.getLong(1) : 0;
                }
            }
        }
        return differing;
    }

    @Override
    public long purgeTombstones(Duration age, int batch) throws SQLException {
        ready();
        long total = 0;
        int deleted;
        try (Connection c = dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(declared().purgeTombstones())) {
            do {
                ps.setLong(1, age.toNanos() / 1000);
                ps.setInt(2, batch);
                deleted = ps.executeUpdate();
                total += deleted;
            } while (deleted == batch);
        }
        return total;
    }
}
