package tributary.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import tributary.config.Identifiers;
import tributary.migrate.TableMigrations;

/**
 * Writes opened records into one target table: one transaction per batch, version-guarded, tombstones kept. A
 * typed target converts each record's fields into its columns first; a record that does not fit is turned away
 * alone with its reason, never half-written. New payload fields are handled by the evolution policy.
 */
public class TargetWriter {

    private static final Logger LOG = Logger.getLogger(TargetWriter.class);

    /** Exact numbers: a numeric(12,2) must not pass through a double. */
    static final ObjectMapper JSON = JsonMapper.builder().nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    /** What happens to a payload field no column maps. */
    public enum Evolution {
        IGNORE, ADD_COLUMN, FAIL;

        public static Evolution parse(String key, String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + ": '" + value + "' is not one of ignore, add-column, fail");
            }
        }
    }

    /**
     * How the pipeline declared its target: the configuration key the table comes from (for messages), the typed
     * columns and payload, and the evolution policy.
     */
    public record Settings(String key, TargetShape shape, Evolution evolution) {

        public static Settings untyped(String key) {
            return new Settings(key, TargetShape.untyped(), Evolution.IGNORE);
        }
    }

    /** What a write did: rows changed, and the records that did not fit their columns, with why. */
    public record Written(int changed, Map<SyncRecord, String> unfit) {
    }

    private final AtomicLong older = new AtomicLong();
    private final AtomicLong conflicting = new AtomicLong();
    private final AtomicLong unmapped = new AtomicLong();
    private final AtomicLong added = new AtomicLong();
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final DataSource ds;
    private final TargetSql declared;
    private final boolean create;
    private final Settings settings;
    private volatile TargetSql sql;

    private volatile boolean ready;

    public TargetWriter(DataSource ds, TargetSql sql) {
        this(ds, sql, false);
    }

    /** @param create create the table and view before the first write (when the database is reachable) */
    public TargetWriter(DataSource ds, TargetSql sql, boolean create) {
        this(ds, sql, create, Settings.untyped("target.table"));
    }

    public TargetWriter(DataSource ds, TargetSql sql, boolean create, Settings settings) {
        this.ds = ds;
        this.declared = sql.with(settings.shape());
        this.sql = declared;
        this.create = create;
        this.settings = settings;
    }

    /** Creates the table and view when missing, applies its migrations and adds declared columns it lacks. */
    public void createTable() throws SQLException {
        prepare(true);
    }

    /**
     * Brings the table to what the declaration needs (create-table on) or checks that it is (off): its version,
     * Tributary's columns, each declared column with its declared type. A mismatch fails naming the column and
     * both types; nothing is cast silently.
     */
    public synchronized void prepare() throws SQLException {
        prepare(create);
    }

    private synchronized void prepare(boolean changes) throws SQLException {
        TableMigrations migrations = migrations();
        if (changes) {
            migrations.migrate();
        } else {
            migrations.check(settings.key());
        }
        reconcile(changes);
        ready = true;
    }

    /** The target's versions: V1 is the table, tombstone index and live view as declared. */
    public TableMigrations migrations() {
        TargetSql created = createdAs();
        var v1 = new TableMigrations.Step(1, "target table with tombstones and live view",
                created.createStatements(), true, c -> !catalog(c).isEmpty());
        return new TableMigrations(ds, created.schema(), created.table(), created.simpleName() + "_tributary",
                List.of(v1));
    }

    /** The statements the table is created with: the declaration's, unless the target's server needs a variant. */
    protected TargetSql createdAs() {
        return declared;
    }

    /** Checks the table against the declaration and adopts columns schema evolution added earlier. */
    private void reconcile(boolean changes) throws SQLException {
        try (Connection c = ds.getConnection()) {
            Map<String, String> table = catalog(c);
            String key = settings.key();
            if (table.isEmpty()) {
                throw new IllegalStateException(key + ": table " + declared.table() + " does not exist; create it or set "
                        + key.replaceAll("\\.table$", ".create-table") + "=true");
            }
            ownColumns().forEach((column, type) -> expect(table, column, type));
            boolean altered = false;
            TargetShape shape = declared.shape();
            ColumnType json = ColumnType.of(ColumnType.Kind.JSONB);
            if (shape.payload() && !table.containsKey("payload")) {
                altered |= addOrFail(c, table, changes, "payload", json);
            } else if (shape.payload() && !fits(table.get("payload"), json)) {
                expect(table, "payload", typeName(json));
            }
            for (TargetColumn col : shape.columns()) {
                String actual = table.get(col.name());
                if (actual == null) {
                    altered |= addOrFail(c, table, changes, col.name(), col.type());
                } else if (!fits(actual, col.type())) {
                    throw new IllegalStateException(key + ": column " + col.name() + " of " + declared.table()
                            + " is declared " + col.type().sql() + (typeName(col.type()).equals(col.type().sql()) ? ""
                                    : " (" + typeName(col.type()) + " here)") + " (" + columnKey(col.name())
                            + ".type) but the table has " + actual + "; change the declaration or the table, nothing "
                            + "is cast silently");
                }
            }
            List<TargetColumn> evolved = new ArrayList<>();
            if (settings.evolution() == Evolution.ADD_COLUMN) {
                for (Map.Entry<String, String> e : table.entrySet()) {
                    if (!TargetSql.RESERVED.contains(e.getKey()) && shape.column(e.getKey()) == null) {
                        try {
                            evolved.add(TargetColumn.evolved(e.getKey(), columnType(e.getKey(), e.getValue())));
                        } catch (IllegalArgumentException notOurs) {
                            LOG.warnf("%s: column %s has type %s, which schema evolution does not write", declared.table(),
                                    e.getKey(), e.getValue());
                        }
                    }
                }
            }
            if (changes || altered || !evolved.isEmpty()) {
                replaceView(c, catalog(c));
            }
            sql = declared.with(shape.with(evolved));
        }
    }

    /** Tributary's own columns and the type each must have, as {@link #catalog} spells types. */
    protected Map<String, String> ownColumns() {
        Map<String, String> own = new LinkedHashMap<>();
        own.put("business_key", "text");
        own.put("version", "bigint");
        own.put("deleted", "boolean");
        own.put("source_created_at", "timestamp with time zone");
        own.put("synced_at", "timestamp with time zone");
        return own;
    }

    /** How the target spells a declared type. */
    protected String typeName(ColumnType type) {
        return type.sql();
    }

    /** Whether a column of the table's type (as {@link #catalog} spells it) holds the declared type exactly. */
    protected boolean fits(String actual, ColumnType declared) {
        return declared.sql().equals(actual);
    }

    /** The type of a column schema evolution added earlier, from the table's type. */
    protected ColumnType columnType(String column, String actual) {
        return ColumnType.parse(actual);
    }

    /** The settings' key for messages ({@code tributary.pipelines.<p>.target.table}). */
    protected String settingsKey() {
        return settings.key();
    }

    /** The table's statements as declared. */
    protected TargetSql declared() {
        return declared;
    }

    private String columnKey(String column) {
        return settings.key().replaceAll("\\.table$", ".columns." + column);
    }

    private void expect(Map<String, String> table, String column, String type) {
        String actual = table.get(column);
        if (!type.equals(actual)) {
            throw new IllegalStateException(settings.key() + ": table " + declared.table() + " is not a Tributary target: "
                    + "column " + column + " should be " + type + " but is " + (actual == null ? "missing" : actual));
        }
    }

    private boolean addOrFail(Connection c, Map<String, String> table, boolean changes, String column, ColumnType type)
            throws SQLException {
        if (!changes) {
            throw new IllegalStateException(settings.key() + ": column " + column + " (" + type.sql() + ") is missing "
                    + "in " + declared.table() + "; add it or set " + settings.key().replaceAll("\\.table$",
                            ".create-table") + "=true");
        }
        try (Statement st = c.createStatement()) {
            addColumn(st, column, type);
        }
        table.put(column, typeName(type));
        LOG.infof("%s: declared column %s %s added", declared.table(), column, type.sql());
        return true;
    }

    /** Adds a nullable column; one that exists already (another replica added it) is left as it is. */
    protected void addColumn(Statement st, String column, ColumnType type) throws SQLException {
        st.execute(declared.addColumn(column, type));
    }

    /** Creates or replaces the live view over the table's columns in table order. */
    protected void replaceView(Connection c, Map<String, String> table) throws SQLException {
        List<String> columns = List.copyOf(table.keySet());
        try (Statement st = c.createStatement()) {
            st.execute(declared.liveView(columns));
        } catch (SQLException e) {
            // 42P16: the view's columns changed other than at the end (a declaration changed): build it anew.
            if (!"42P16".equals(e.getSQLState())) {
                throw e;
            }
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute(declared.dropLiveView());
                st.execute(declared.liveView(columns));
                c.commit();
            } catch (SQLException again) {
                c.rollback();
                throw again;
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }

    /** The table's columns and their types in table order; empty when the table does not exist. */
    protected Map<String, String> catalog(Connection c) throws SQLException {
        Map<String, String> columns = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(TargetSql.catalog())) {
            ps.setString(1, declared.table());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return columns;
    }

    protected void ready() throws SQLException {
        if (ready) {
            return;
        }
        try {
            prepare(create);
        } catch (IllegalStateException e) {
            // The target was down at start-up and does not match now: it cannot take writes (42804: datatype
            // mismatch), so the batch fails over to the spool instead of being half-written.
            throw new SQLException(e.getMessage(), "42804", e);
        }
    }

    /** Upserts the batch; every record must fit (use {@link #writeAll} where some may not). */
    public int write(Collection<SyncRecord> records) throws SQLException {
        Written w = writeAll(records);
        if (!w.unfit().isEmpty()) {
            throw new IllegalArgumentException(w.unfit().size() + " record(s) do not fit " + declared.table() + ": "
                    + w.unfit().values().iterator().next());
        }
        return w.changed();
    }

    /**
     * Upserts the batch in one transaction and returns how many rows changed, with the records that did not fit
     * their columns (not written). Older versions of a key in the same batch are superseded before the statement;
     * keys are sorted so concurrent writers lock in one order.
     */
    public Written writeAll(Collection<SyncRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return new Written(0, Map.of());
        }
        ready();
        TargetSql current = sql;
        Map<SyncRecord, String> unfit = new LinkedHashMap<>();
        Map<SyncRecord, String[]> values = new IdentityHashMap<>();
        if (current.shape().typed()) {
            Map<String, ColumnType> newFields = convert(current, records, values, unfit);
            if (!newFields.isEmpty()) {
                current = evolve(newFields);
                values.clear();
                unfit.clear();
                convert(current, records, values, unfit);
            }
        }
        for (SyncRecord r : records) {
            String problem = keyProblem(r.key());
            if (problem != null) {
                unfit.put(r, problem);
            }
        }
        List<SyncRecord> fit = new ArrayList<>(records.size());
        for (SyncRecord r : records) {
            if (!unfit.containsKey(r)) {
                fit.add(r);
            }
        }
        if (fit.isEmpty()) {
            return new Written(0, unfit);
        }
        return new Written(upsert(current, List.copyOf(newestPerKey(fit).values()), values), unfit);
    }

    /** Why the target cannot hold a key, or null when it can. */
    protected String keyProblem(String key) {
        return null;
    }

    /** A column's value as the target takes it, from the canonical text {@link ColumnType#convert} gives. */
    protected String columnValue(ColumnType type, String canonical) throws ColumnType.Unfit {
        return canonical;
    }

    /**
     * Upserts rows with distinct keys in one transaction, only where the incoming version is newer, and returns how
     * many rows changed; {@code values} holds each upsert's typed column values in the shape's order.
     */
    protected int upsert(TargetSql current, List<SyncRecord> rows, Map<SyncRecord, String[]> values)
            throws SQLException {
        int n = rows.size();
        TargetShape shape = current.shape();
        int columns = shape.columns().size();
        String[] keys = new String[n];
        Long[] versions = new Long[n];
        Boolean[] deleted = new Boolean[n];
        Long[] created = new Long[n];
        String[] payloads = shape.payload() ? new String[n] : null;
        String[][] typed = new String[columns][n];
        for (int i = 0; i < n; i++) {
            SyncRecord r = rows.get(i);
            keys[i] = r.key();
            versions[i] = r.envelope().version();
            deleted[i] = r.envelope().delete();
            created[i] = r.envelope().createdAtMicros();
            if (payloads != null) {
                payloads[i] = r.envelope().delete() ? null : r.envelope().payload();
            }
            String[] v = values.get(r);
            if (v != null) {
                for (int c = 0; c < columns; c++) {
                    typed[c][i] = v[c];
                }
            }
        }
        // One statement, so one round trip: in autocommit it is its own transaction, and with synchronous_commit
        // on the server answers only once the commit is durable. The count of records not applied only reads.
        try (Connection c = ds.getConnection()) {
            int changed;
            try (PreparedStatement ps = c.prepareStatement(current.upsert())) {
                ps.setArray(1, c.createArrayOf("text", keys));
                ps.setArray(2, c.createArrayOf("bigint", versions));
                ps.setArray(3, c.createArrayOf("boolean", deleted));
                ps.setArray(4, c.createArrayOf("bigint", created));
                int at = 5;
                if (payloads != null) {
                    ps.setArray(at++, c.createArrayOf("text", payloads));
                }
                for (int col = 0; col < columns; col++) {
                    ps.setArray(at++, c.createArrayOf("text", typed[col]));
                }
                changed = ps.executeUpdate();
            }
            if (changed < n) {
                notApplied(c, current, n - changed, keys, versions, payloads, typed);
            }
            return changed;
        }
    }

    /**
     * Converts every upsert's fields into the shape's columns. Records that do not fit land in {@code unfit} with
     * their reason (field, JSON type, column type; never the value). Returns the new fields schema evolution
     * should add as columns, with the type their first value suggests.
     */
    private Map<String, ColumnType> convert(TargetSql current, Collection<SyncRecord> records,
            Map<SyncRecord, String[]> values, Map<SyncRecord, String> unfit) {
        TargetShape shape = current.shape();
        Set<String> mapped = shape.mappedFields();
        List<TargetColumn> columns = shape.columns();
        Map<String, ColumnType> newFields = new TreeMap<>();
        for (SyncRecord r : records) {
            if (r.envelope().delete()) {
                continue;
            }
            JsonNode payload;
            try {
                payload = JSON.readTree(r.envelope().payload());
            } catch (JsonProcessingException | RuntimeException e) {
                unfit.put(r, "payload is not valid JSON");
                continue;
            }
            if (payload == null || !payload.isObject()) {
                unfit.put(r, "payload is not a JSON object");
                continue;
            }
            String[] row = new String[columns.size()];
            String problem = null;
            for (int i = 0; i < columns.size() && problem == null; i++) {
                TargetColumn col = columns.get(i);
                JsonNode v = col.read(payload);
                try {
                    row[i] = columnValue(col.type(), col.type().convert(v));
                } catch (ColumnType.Unfit e) {
                    problem = "field " + col.from() + " (column " + col.name() + "): " + e.getMessage();
                }
            }
            if (problem == null) {
                problem = unmappedFields(payload, mapped, newFields);
            }
            if (problem != null) {
                unfit.put(r, problem);
            } else {
                values.put(r, row);
            }
        }
        return newFields;
    }

    /** Applies the evolution policy to fields no column maps; returns a reason when the record must not be written. */
    private String unmappedFields(JsonNode payload, Set<String> mapped, Map<String, ColumnType> newFields) {
        for (Iterator<Map.Entry<String, JsonNode>> it = payload.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            if (mapped.contains(name)) {
                continue;
            }
            switch (settings.evolution()) {
                case FAIL:
                    return "field " + name + " has no column (" + settings.key().replaceAll("\\.table$", ".evolution")
                            + "=fail)";
                case ADD_COLUMN:
                    if (!columnName(name)) {
                        report(name, "cannot become a column (its name is not a plain identifier, or is one of "
                                + "Tributary's own columns); declare a column for it under " + columnKey("<name>"));
                    } else {
                        ColumnType type = ColumnType.infer(field.getValue());
                        if (type != null) {
                            newFields.putIfAbsent(name, type);
                        }
                    }
                    break;
                default:
                    report(name, "has no column and is not written (" + settings.key().replaceAll("\\.table$",
                            ".evolution") + "=ignore)");
            }
        }
        return null;
    }

    private static boolean columnName(String name) {
        try {
            Identifiers.validate(name);
            return !name.contains(".") && !TargetSql.RESERVED.contains(name);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void report(String field, String what) {
        if (reported.size() < 10_000 && reported.add(field)) {
            unmapped.incrementAndGet();
            LOG.warnf("%s: new payload field %s %s", declared.table(), field.length() > 64 ? field.substring(0, 64) + "…"
                    : field, what);
        }
    }

    /**
     * Adds a nullable column per new field, then re-reads the table: a replica that added the same column first
     * (perhaps with another type) wins, and values are converted to the type the table really has.
     */
    private synchronized TargetSql evolve(Map<String, ColumnType> newFields) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            // A short lock wait: the column is added between batches, never behind a long queue of writers.
            st.execute(lockTimeout(true));
            for (Map.Entry<String, ColumnType> f : newFields.entrySet()) {
                if (sql.shape().column(f.getKey()) == null) {
                    addColumn(st, f.getKey(), f.getValue());
                    added.incrementAndGet();
                    LOG.infof("%s: column %s %s added for a new payload field (evolution add-column)", declared.table(),
                            f.getKey(), f.getValue().sql());
                }
            }
            st.execute(lockTimeout(false));
        }
        reconcile(false);
        return sql;
    }

    /** Sets a short wait for the table's lock before a column is added, or resets it. */
    protected String lockTimeout(boolean set) {
        return set ? "SET lock_timeout = '5s'" : "RESET lock_timeout";
    }

    /** The pool the writer writes through. */
    protected DataSource dataSource() {
        return ds;
    }

    /** Counts records the version guard turned away, and those of them that carried other data at the same version. */
    protected void countNotApplied(long rejected, long sameVersionOtherData) {
        older.addAndGet(rejected);
        if (sameVersionOtherData > 0) {
            conflicting.addAndGet(sameVersionOtherData);
            LOG.warnf("%s: %d record(s) carried a version the target already holds with different data; "
                    + "the target kept its row (versions must change with the data)", declared.table(),
                    sameVersionOtherData);
        }
    }

    /**
     * Records the version guard turned away: counted, and those whose version equals the target's with other data
     * reported (counts only: payloads are business data).
     */
    private void notApplied(Connection c, TargetSql current, int rejected, String[] keys, Long[] versions,
            String[] payloads, String[][] typed) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(current.sameVersionOtherPayload())) {
            ps.setArray(1, c.createArrayOf("text", keys));
            ps.setArray(2, c.createArrayOf("bigint", versions));
            int at = 3;
            if (payloads != null) {
                ps.setArray(at++, c.createArrayOf("text", payloads));
            }
            for (String[] column : typed) {
                ps.setArray(at++, c.createArrayOf("text", column));
            }
            try (var rs = ps.executeQuery()) {
                countNotApplied(rejected, rs.next() ? rs.getLong(1) : 0);
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

    /** Distinct new payload fields reported as having no column. */
    public long unmappedFields() {
        return unmapped.get();
    }

    /** Columns this writer added for new payload fields. */
    public long addedColumns() {
        return added.get();
    }

    /** The shape the writer writes now: declared columns and those schema evolution added. */
    public TargetShape shape() {
        return sql.shape();
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
        ready();
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

    protected static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
