package tributary.sink;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import tributary.config.Identifiers;

/**
 * Statements against an analytics target table. Deletes are tombstones: the row stays with {@code deleted = true}
 * and the delete's version, so a late, older upsert cannot resurrect it. The view {@code <table>_live} hides them.
 * Typed columns travel as text arrays and are cast by the statement; their values were checked beforehand, so the
 * casts cannot fail or truncate.
 */
public class TargetSql {

    /** Tributary's own columns: no typed column may take one of these names. */
    public static final Set<String> RESERVED = Set.of("business_key", "version", "payload", "deleted",
            "source_created_at", "synced_at");

    private final String name;
    private final String table;
    private final String simple;
    private final String view;
    private final TargetShape shape;

    public TargetSql(String table) {
        this(table, TargetShape.untyped());
    }

    public TargetSql(String table, TargetShape shape) {
        this(table, shape, Identifiers.quote(table), Identifiers.quote(table + "_live"));
    }

    /** For another database's statements: the configured name and how that database quotes table and view. */
    protected TargetSql(String table, TargetShape shape, String quotedTable, String quotedView) {
        this.name = table;
        this.table = quotedTable;
        this.simple = Identifiers.simpleName(table);
        this.view = quotedView;
        this.shape = shape;
        // Derived names too: PostgreSQL would silently truncate a name over 63 bytes (MariaDB refuses over 64).
        Identifiers.validate(simple + "_tombstones");
    }

    /** The same table with another shape (a column added by schema evolution). */
    public TargetSql with(TargetShape other) {
        return new TargetSql(name, other);
    }

    /** The table's name as configured, unquoted. */
    public String name() {
        return name;
    }

    public String table() {
        return table;
    }

    public String view() {
        return view;
    }

    public TargetShape shape() {
        return shape;
    }

    /** The table's unquoted simple name. */
    public String simpleName() {
        return simple;
    }

    /** The table's schema (MariaDB: its database), unquoted, or null when unqualified. */
    public String schema() {
        int dot = name.indexOf('.');
        return dot < 0 ? null : name.substring(0, dot);
    }

    /** The statements that create the table, its tombstone index and nothing else. */
    public List<String> createStatements() {
        return List.of(createTable());
    }

    /** The table as this shape declares it and its tombstone index; the live view follows the table's columns. */
    public String createTable() {
        String schema = schema() == null ? "" : "CREATE SCHEMA IF NOT EXISTS \"" + schema() + "\"; ";
        StringBuilder cols = new StringBuilder("business_key text PRIMARY KEY, version bigint NOT NULL, ");
        if (shape.payload()) {
            cols.append("payload jsonb, ");
        }
        for (TargetColumn c : shape.columns()) {
            cols.append(quote(c.name())).append(' ').append(c.type().sql()).append(", ");
        }
        cols.append("deleted boolean NOT NULL DEFAULT false, source_created_at timestamptz, "
                + "synced_at timestamptz NOT NULL DEFAULT clock_timestamp()");
        return schema + "CREATE TABLE IF NOT EXISTS " + table + " (" + cols + "); "
                + "CREATE INDEX IF NOT EXISTS \"" + simple + "_tombstones\" ON " + table + " (synced_at) WHERE deleted";
    }

    /**
     * The live view over the table's columns in table order, all but {@code deleted}: a column added later comes
     * last in both, so the view can be replaced in place.
     */
    public String liveView(List<String> tableColumns) {
        return "CREATE OR REPLACE VIEW " + view + " AS SELECT " + tableColumns.stream().filter(c -> !"deleted".equals(c))
                .map(TargetSql::quote).collect(Collectors.joining(", ")) + " FROM " + table + " WHERE NOT deleted";
    }

    public String dropLiveView() {
        return "DROP VIEW IF EXISTS " + view;
    }

    /** The table's columns and their types as {@code format_type} spells them, in table order. Binds: table. */
    public static String catalog() {
        return "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
    }

    /** Adds a nullable column; a replica that added it first makes this a no-op. */
    public String addColumn(String name, ColumnType type) {
        return "ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + quote(name) + " " + type.sql();
    }

    /**
     * Upserts a batch given as parallel arrays, writing only where the incoming version is newer. Keys must be
     * unique within the batch. Binds: keys text[], versions bigint[], deleted boolean[], createdAtMicros bigint[],
     * then payloads text[] when the shape keeps the payload, then one text[] per typed column.
     */
    public String upsert() {
        StringBuilder into = new StringBuilder("business_key, version, deleted, source_created_at, synced_at");
        StringBuilder select = new StringBuilder("k, v, d, to_timestamp(c / 1000000.0), clock_timestamp()");
        StringBuilder from = new StringBuilder("CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS boolean[]), "
                + "CAST(? AS bigint[])");
        StringBuilder alias = new StringBuilder("k, v, d, c");
        StringBuilder set = new StringBuilder("version = EXCLUDED.version, deleted = EXCLUDED.deleted, "
                + "source_created_at = EXCLUDED.source_created_at, synced_at = EXCLUDED.synced_at");
        if (shape.payload()) {
            into.append(", payload");
            select.append(", CAST(p AS jsonb)");
            from.append(", CAST(? AS text[])");
            alias.append(", p");
            set.append(", payload = EXCLUDED.payload");
        }
        List<TargetColumn> cols = shape.columns();
        for (int i = 0; i < cols.size(); i++) {
            String name = quote(cols.get(i).name());
            into.append(", ").append(name);
            select.append(", CAST(x").append(i).append(" AS ").append(cols.get(i).type().sql()).append(')');
            from.append(", CAST(? AS text[])");
            alias.append(", x").append(i);
            set.append(", ").append(name).append(" = EXCLUDED.").append(name);
        }
        return "INSERT INTO " + table + " AS cur (" + into + ") SELECT " + select + " FROM unnest(" + from + ") AS u("
                + alias + ") ON CONFLICT (business_key) DO UPDATE SET " + set + " WHERE cur.version < EXCLUDED.version";
    }

    /**
     * Of a batch's keys and versions, those the target holds at the same version with other data: the same version
     * written twice with different data, which the version guard cannot tell apart. Binds: keys text[], versions
     * bigint[], then the payloads and typed columns as for {@link #upsert()}.
     */
    public String sameVersionOtherPayload() {
        StringBuilder from = new StringBuilder("CAST(? AS text[]), CAST(? AS bigint[])");
        StringBuilder alias = new StringBuilder("k, v");
        StringBuilder mine = new StringBuilder();
        StringBuilder theirs = new StringBuilder();
        if (shape.payload()) {
            from.append(", CAST(? AS text[])");
            alias.append(", p");
            mine.append("cur.payload");
            theirs.append("CAST(u.p AS jsonb)");
        }
        List<TargetColumn> cols = shape.columns();
        for (int i = 0; i < cols.size(); i++) {
            from.append(", CAST(? AS text[])");
            alias.append(", x").append(i);
            mine.append(mine.length() == 0 ? "" : ", ").append("cur.").append(quote(cols.get(i).name()));
            theirs.append(theirs.length() == 0 ? "" : ", ").append("CAST(u.x").append(i).append(" AS ")
                    .append(cols.get(i).type().sql()).append(')');
        }
        return "SELECT count(*) FROM unnest(" + from + ") AS u(" + alias + ") JOIN " + table
                + " cur ON cur.business_key = u.k WHERE cur.version = u.v AND ROW(" + mine
                + ", 0) IS DISTINCT FROM ROW(" + theirs + ", 0)";
    }

    /**
     * One bounded batch of expired tombstones. The outer statement repeats the predicate and locked rows are
     * skipped, so a key re-created while the purge runs keeps its new live row. Binds: ageSeconds, limit,
     * ageSeconds.
     */
    public String purgeTombstones() {
        String expired = "deleted AND synced_at < now() - make_interval(secs => ?)";
        return "DELETE FROM " + table + " WHERE business_key IN (SELECT business_key FROM " + table
                + " WHERE " + expired + " LIMIT ? FOR UPDATE SKIP LOCKED) AND " + expired;
    }

    static String quote(String column) {
        return "\"" + column + "\"";
    }
}
