package tributary.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import tributary.config.Identifiers;

/**
 * Statements against a target table in MariaDB (or MySQL): the same table as in PostgreSQL, in that database's
 * types. Keys are {@code varchar(768)} with a binary, no-pad collation, so keys compare as PostgreSQL's text does
 * (case and trailing spaces count); times are UTC in {@code datetime(6)}; the payload is {@code json}. A column
 * Tributary creates carries its declared type in its comment ({@code tributary:<type>}), so a {@code timestamptz}
 * column is told from a {@code timestamp} one when the table is read back.
 */
public final class MariaDbTargetSql extends TargetSql {

    /** The longest key: InnoDB indexes at most 3072 bytes, four per character in utf8mb4. */
    public static final int KEY_LENGTH = 768;
    /** The longest varchar that fits a row beside Tributary's own columns in utf8mb4. */
    static final int VARCHAR_LENGTH = 16_383;
    static final String COMMENT = "tributary:";

    private final String keyCollation;

    public MariaDbTargetSql(String table, TargetShape shape, String keyCollation) {
        super(table, shape, quote(table), quote(table + "_live"));
        this.keyCollation = keyCollation;
    }

    @Override
    public MariaDbTargetSql with(TargetShape other) {
        return new MariaDbTargetSql(name(), other, keyCollation);
    }

    /** The same table whose keys use another collation (MySQL has no {@code utf8mb4_nopad_bin}). */
    public MariaDbTargetSql keysCollated(String collation) {
        return new MariaDbTargetSql(name(), shape(), collation);
    }

    static String quote(String identifier) {
        Identifiers.validate(identifier);
        return java.util.Arrays.stream(identifier.split("\\.")).map(p -> "`" + p + "`")
                .collect(Collectors.joining("."));
    }

    static String quoteColumn(String column) {
        return "`" + column + "`";
    }

    /**
     * The MariaDB type a declared type is written as, as {@code information_schema.COLUMNS.COLUMN_TYPE} spells it
     * (integer display widths left out).
     *
     * @throws IllegalArgumentException for a type MariaDB cannot hold exactly
     */
    public static String nativeType(ColumnType type) {
        return switch (type.kind()) {
            case TEXT -> "longtext";
            case VARCHAR -> {
                if (type.length() > VARCHAR_LENGTH) {
                    throw new IllegalArgumentException("type " + type.sql() + " is longer than MariaDB's varchar can be "
                            + "beside the other columns (" + VARCHAR_LENGTH + "); declare text");
                }
                yield "varchar(" + type.length() + ")";
            }
            case SMALLINT -> "smallint";
            case INTEGER -> "int";
            case BIGINT -> "bigint";
            case NUMERIC -> {
                if (type.precision() > 65 || type.scale() > 38) {
                    throw new IllegalArgumentException("type " + type.sql() + " is wider than MariaDB's decimal "
                            + "(precision up to 65, scale up to 38)");
                }
                yield type.precision() < 0 ? "decimal(65,30)" : "decimal(" + type.precision() + "," + type.scale() + ")";
            }
            case BOOLEAN -> "tinyint(1)";
            case DATE -> "date";
            case TIMESTAMP, TIMESTAMPTZ -> "datetime(6)";
            case UUID -> "char(36)";
            case JSONB -> "longtext";
        };
    }

    /** The type a column of a table Tributary did not create is read as, or null for a type it does not write. */
    static ColumnType fromNative(String nativeType) {
        String t = nativeType.toLowerCase(Locale.ROOT);
        if (t.startsWith("decimal(")) {
            return ColumnType.parse("numeric" + t.substring("decimal".length()));
        }
        if (t.startsWith("varchar(")) {
            return ColumnType.parse(t);
        }
        return switch (t) {
            case "longtext", "text", "mediumtext" -> ColumnType.of(ColumnType.Kind.TEXT);
            case "json" -> ColumnType.of(ColumnType.Kind.JSONB);
            case "smallint" -> ColumnType.of(ColumnType.Kind.SMALLINT);
            case "int" -> ColumnType.of(ColumnType.Kind.INTEGER);
            case "bigint" -> ColumnType.of(ColumnType.Kind.BIGINT);
            case "tinyint(1)" -> ColumnType.of(ColumnType.Kind.BOOLEAN);
            case "date" -> ColumnType.of(ColumnType.Kind.DATE);
            case "datetime(6)" -> ColumnType.of(ColumnType.Kind.TIMESTAMP);
            case "char(36)" -> ColumnType.of(ColumnType.Kind.UUID);
            default -> null;
        };
    }

    /** A column's definition: its type, nullable, its declared type in the comment. */
    private static String definition(ColumnType type) {
        String sql = type.kind() == ColumnType.Kind.JSONB ? "json" : nativeType(type);
        // A declared numeric without precision is held as decimal(65,30): the comment says which it is.
        return sql + " NULL COMMENT '" + COMMENT + type.sql() + "'";
    }

    @Override
    public List<String> createStatements() {
        List<String> statements = new ArrayList<>();
        if (schema() != null) {
            statements.add("CREATE SCHEMA IF NOT EXISTS " + quote(schema()));
        }
        StringBuilder cols = new StringBuilder("business_key varchar(" + KEY_LENGTH + ") CHARACTER SET utf8mb4 COLLATE "
                + keyCollation + " NOT NULL, version bigint NOT NULL, ");
        if (shape().payload()) {
            cols.append("payload ").append(definition(ColumnType.of(ColumnType.Kind.JSONB))).append(", ");
        }
        for (TargetColumn c : shape().columns()) {
            cols.append(quoteColumn(c.name())).append(' ').append(definition(c.type())).append(", ");
        }
        cols.append("deleted boolean NOT NULL DEFAULT false, source_created_at datetime(6) NULL, "
                + "synced_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (business_key), KEY "
                + quoteColumn(simpleName() + "_tombstones") + " (deleted, synced_at)");
        statements.add("CREATE TABLE IF NOT EXISTS " + table() + " (" + cols + ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        return statements;
    }

    @Override
    public String createTable() {
        return String.join("; ", createStatements());
    }

    @Override
    public String liveView(List<String> tableColumns) {
        return "CREATE OR REPLACE VIEW " + view() + " AS SELECT " + tableColumns.stream()
                .filter(c -> !"deleted".equals(c)).map(MariaDbTargetSql::quoteColumn).collect(Collectors.joining(", "))
                + " FROM " + table() + " WHERE NOT deleted";
    }

    /**
     * The table's columns in table order: name, {@code COLUMN_TYPE}, comment. Binds: schema (null for the
     * connection's database), table.
     */
    public static String columns() {
        return "SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_COMMENT FROM information_schema.COLUMNS "
                + "WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";
    }

    @Override
    public String addColumn(String name, ColumnType type) {
        return "ALTER TABLE " + table() + " ADD COLUMN " + quoteColumn(name) + " " + definition(type);
    }

    /**
     * Upserts one row, writing only where the incoming version is newer: each column keeps its value unless the
     * version is newer, and the version is assigned last, as MariaDB assigns left to right. Binds: key, version,
     * deleted, source created at (UTC text), then the payload when kept, then the typed columns in shape order.
     */
    @Override
    public String upsert() {
        StringBuilder into = new StringBuilder("business_key, version, deleted, source_created_at, synced_at");
        StringBuilder values = new StringBuilder("?, ?, ?, ?, UTC_TIMESTAMP(6)");
        List<String> assigned = new ArrayList<>(List.of("deleted", "source_created_at", "synced_at"));
        if (shape().payload()) {
            into.append(", payload");
            values.append(", ?");
            assigned.add("payload");
        }
        for (TargetColumn c : shape().columns()) {
            into.append(", ").append(quoteColumn(c.name()));
            values.append(", ?");
            assigned.add(quoteColumn(c.name()));
        }
        String newer = "VALUES(version) > version";
        String set = assigned.stream().map(c -> c + " = IF(" + newer + ", VALUES(" + c + "), " + c + ")")
                .collect(Collectors.joining(", "));
        return "INSERT INTO " + table() + " (" + into + ") VALUES (" + values + ") ON DUPLICATE KEY UPDATE " + set
                + ", version = IF(" + newer + ", VALUES(version), version)";
    }

    /** The current versions of some keys, locked. Binds: {@code count} keys. */
    public String versions(int count) {
        return "SELECT business_key, version FROM " + table() + " WHERE business_key IN ("
                + String.join(", ", java.util.Collections.nCopies(count, "?")) + ") FOR UPDATE";
    }

    /**
     * Whether the target holds the key at this version with other data. Binds: key, version, then the payload and
     * typed columns as for {@link #upsert()}.
     */
    @Override
    public String sameVersionOtherPayload() {
        List<String> same = new ArrayList<>();
        if (shape().payload()) {
            same.add("payload <=> ?");
        }
        for (TargetColumn c : shape().columns()) {
            same.add(quoteColumn(c.name()) + " <=> ?");
        }
        return "SELECT count(*) FROM " + table() + " WHERE business_key = ? AND version = ? AND NOT ("
                + String.join(" AND ", same) + ")";
    }

    /**
     * One bounded batch of expired tombstones; a key re-created meanwhile is no longer deleted and stays. Binds:
     * age in microseconds, limit.
     */
    @Override
    public String purgeTombstones() {
        return "DELETE FROM " + table() + " WHERE deleted AND synced_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND "
                + "LIMIT ?";
    }
}
