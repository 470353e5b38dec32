package tributary.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tributary.crypto.Envelope;
import tributary.testing.Db;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;

/** Typed target tables against a real PostgreSQL: every declared type, conversion failures, start-up checks. */
class TypedTargetTest {

    private static final String KEY = "tributary.pipelines.t.target.table";

    /** Every type the declaration supports, with where its value comes from. */
    private static final Map<String, String[]> EVERY_TYPE = new LinkedHashMap<>();

    static {
        EVERY_TYPE.put("c_text", new String[] { "text", "$.text" });
        EVERY_TYPE.put("c_varchar", new String[] { "varchar(5)", "$.code" });
        EVERY_TYPE.put("c_small", new String[] { "smallint", "$.small" });
        EVERY_TYPE.put("c_int", new String[] { "integer", "$.int" });
        EVERY_TYPE.put("c_big", new String[] { "bigint", "$.big" });
        EVERY_TYPE.put("c_amount", new String[] { "numeric(12,2)", "$.amount" });
        EVERY_TYPE.put("c_flag", new String[] { "boolean", "$.flag" });
        EVERY_TYPE.put("c_day", new String[] { "date", "$.day" });
        EVERY_TYPE.put("c_local", new String[] { "timestamp", "$.local" });
        EVERY_TYPE.put("c_at", new String[] { "timestamptz", "$.at" });
        EVERY_TYPE.put("c_id", new String[] { "uuid", "$.id" });
        EVERY_TYPE.put("c_doc", new String[] { "jsonb", "$.doc" });
        EVERY_TYPE.put("c_email", new String[] { "text", "$.customer.email" });
        EVERY_TYPE.put("c_first_sku", new String[] { "varchar(20)", "$.lines[0].sku" });
    }

    private static TargetWriter writer(String table, Map<String, String[]> columns, boolean payload,
            TargetWriter.Evolution evolution, boolean create) {
        List<TargetColumn> cols = new ArrayList<>();
        columns.forEach((name, typeAndFrom) -> cols.add(TargetColumn.of(name, typeAndFrom[0], typeAndFrom[1])));
        return new TargetWriter(Db.of(Servers.get().primary), new TargetSql(table), create,
                new TargetWriter.Settings(KEY, new TargetShape(cols, payload), evolution));
    }

    static SyncRecord upsert(String key, long version, String json) {
        return new SyncRecord(key, new Envelope(version, version, false, Instant.now(), json));
    }

    @Test
    void everyDeclaredTypeArrivesAsTheBusinessWroteIt() throws SQLException {
        TargetWriter w = writer("typed_all", EVERY_TYPE, false, TargetWriter.Evolution.IGNORE, true);
        w.createTable();
        // Values as business systems write them: numbers as strings, ISO texts, nested fields, nulls, edge values.
        List<SyncRecord> batch = List.of(
                upsert("a", 1, "{\"text\": \"Grüße, \\\"quoted\\\"\", \"code\": \"AB12\", \"small\": -32768, "
                        + "\"int\": \"2147483647\", \"big\": 9223372036854775807, \"amount\": \"9999999999.99\", "
                        + "\"flag\": \"yes\", \"day\": \"2026-02-28\", \"local\": \"2026-12-02T10:15:30.123456\", "
                        + "\"at\": \"2026-12-02T10:15:30+02:00\", \"id\": \"0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9\", "
                        + "\"doc\": {\"n\": [1, 2.50, null]}, \"customer\": {\"email\": \"a@example.com\"}, "
                        + "\"lines\": [{\"sku\": \"SKU-1\"}, {\"sku\": \"SKU-2\"}]}"),
                upsert("b", 1, "{\"text\": 42, \"small\": \"7\", \"int\": 0, \"big\": \"-1\", \"amount\": 12345.675, "
                        + "\"flag\": false, \"day\": null, \"local\": \"2026-01-01 00:00:00\", \"at\": \"2026-01-01T00:00:00Z\", "
                        + "\"doc\": \"just text\", \"customer\": {}, \"lines\": []}"),
                upsert("c", 1, "{}"));
        assertEquals(3, w.write(batch));

        // The same values, written by hand as typed SQL literals, must give the same rows.
        OutboxWriter.update(Servers.get().primary, "CREATE TABLE typed_all_expected AS SELECT * FROM typed_all WHERE false");
        OutboxWriter.update(Servers.get().primary, "INSERT INTO typed_all_expected (business_key, version, deleted, "
                + "c_text, c_varchar, c_small, c_int, c_big, c_amount, c_flag, c_day, c_local, c_at, c_id, c_doc, c_email, "
                + "c_first_sku) VALUES "
                + "('a', 1, false, 'Grüße, \"quoted\"', 'AB12', -32768, 2147483647, 9223372036854775807, 9999999999.99, "
                + "true, '2026-02-28', '2026-12-02 10:15:30.123456', '2026-12-02 08:15:30+00', "
                + "'0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9', '{\"n\": [1, 2.50, null]}', 'a@example.com', 'SKU-1'), "
                + "('b', 1, false, '42', NULL, 7, 0, -1, 12345.68, false, NULL, '2026-01-01 00:00:00', "
                + "'2026-01-01 00:00:00+00', NULL, '\"just text\"', NULL, NULL), "
                + "('c', 1, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
        String columns = String.join(", ", EVERY_TYPE.keySet());
        String checksum = "SELECT md5(string_agg(row(business_key, version, deleted, " + columns + ")::text, '|' "
                + "ORDER BY business_key)) FROM ";
        assertEquals(OutboxWriter.query(Servers.get().primary, checksum + "typed_all_expected"),
                OutboxWriter.query(Servers.get().primary, checksum + "typed_all"));
        assertEquals("numeric(12,2)", OutboxWriter.query(Servers.get().primary,
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'typed_all'::regclass "
                        + "AND attname = 'c_amount'"));
        assertEquals("0", OutboxWriter.query(Servers.get().primary,
                "SELECT count(*) FROM pg_attribute WHERE attrelid = 'typed_all'::regclass AND attname = 'payload'"),
                "the payload column is off by default once columns are declared");
        assertEquals("3", OutboxWriter.query(Servers.get().primary, "SELECT count(*) FROM typed_all_live"));
        assertEquals("9999999999.99", OutboxWriter.query(Servers.get().primary,
                "SELECT c_amount::text FROM typed_all_live WHERE business_key = 'a'"));
    }

    @Test
    void aValueThatDoesNotFitTurnsItsRecordAwayNamingFieldAndTypes() throws SQLException {
        Map<String, String[]> cols = new LinkedHashMap<>();
        cols.put("amount", new String[] { "numeric(6,2)", null });
        cols.put("code", new String[] { "varchar(3)", null });
        cols.put("paid_at", new String[] { "timestamptz", "$.payment.at" });
        TargetWriter w = writer("typed_unfit", cols, false, TargetWriter.Evolution.IGNORE, true);
        w.createTable();
        SyncRecord good = upsert("good", 1, "{\"amount\": \"12.5\", \"code\": \"abc\", \"payment\": {\"at\": \"2026-12-02T10:00:00Z\"}}");
        SyncRecord notNumber = upsert("nan", 1, "{\"amount\": \"SECRET-12\"}");
        SyncRecord tooWide = upsert("wide", 1, "{\"amount\": 10000}");
        SyncRecord tooLong = upsert("long", 1, "{\"code\": \"SECRET\"}");
        SyncRecord notInstant = upsert("when", 1, "{\"payment\": {\"at\": \"yesterday SECRET\"}}");
        SyncRecord object = upsert("obj", 1, "{\"code\": {\"a\": 1}}");
        TargetWriter.Written written = w.writeAll(List.of(good, notNumber, tooWide, tooLong, notInstant, object));
        assertEquals(1, written.changed());
        assertEquals(5, written.unfit().size());
        assertEquals("field $.amount (column amount): a JSON string value is not a number for type numeric(6,2)",
                written.unfit().get(notNumber));
        assertTrue(written.unfit().get(tooWide).contains("a JSON number value has more than 4 digits before the decimal "
                + "point for type numeric(6,2)"), written.unfit().get(tooWide));
        assertTrue(written.unfit().get(tooLong).contains("column code): a JSON string value is longer than 3 characters "
                + "for type character varying(3)"), written.unfit().get(tooLong));
        assertTrue(written.unfit().get(notInstant).startsWith("field $.payment.at (column paid_at): a JSON string value"),
                written.unfit().get(notInstant));
        assertTrue(written.unfit().get(object).contains("a JSON object value is not a scalar"), written.unfit().get(object));
        for (String reason : written.unfit().values()) {
            assertFalse(reason.contains("SECRET"), "reasons never quote values: " + reason);
        }
        assertEquals("good:12.50:abc", OutboxWriter.query(Servers.get().primary,
                "SELECT string_agg(business_key || ':' || amount || ':' || code, ',') FROM typed_unfit"));
    }

    @Test
    void anExistingTableThatDoesNotMatchFailsStartUpNamingColumnAndBothTypes() throws SQLException {
        OutboxWriter.update(Servers.get().primary, "CREATE TABLE typed_mismatch (business_key text PRIMARY KEY, "
                + "version bigint NOT NULL, amount double precision, deleted boolean NOT NULL DEFAULT false, "
                + "source_created_at timestamptz, synced_at timestamptz NOT NULL DEFAULT clock_timestamp())");
        Map<String, String[]> cols = new LinkedHashMap<>();
        cols.put("amount", new String[] { "numeric(12,2)", null });
        for (boolean create : new boolean[] { true, false }) {
            TargetWriter w = writer("typed_mismatch", cols, false, TargetWriter.Evolution.IGNORE, create);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::prepare);
            assertTrue(e.getMessage().startsWith(KEY + ": column amount of \"typed_mismatch\" is declared numeric(12,2) "
                    + "(tributary.pipelines.t.target.columns.amount.type) but the table has double precision"),
                    e.getMessage());
        }
        // A write before the check (the target was down at start-up) fails as a target fault, never half-written.
        TargetWriter late = writer("typed_mismatch", cols, false, TargetWriter.Evolution.IGNORE, true);
        SQLException e = assertThrows(SQLException.class, () -> late.write(List.of(upsert("k", 1, "{\"amount\": 1}"))));
        assertEquals("42804", e.getSQLState());
        assertEquals("0", OutboxWriter.query(Servers.get().primary, "SELECT count(*) FROM typed_mismatch"));
    }

    @Test
    void aDeclaredColumnTheTableLacksIsAddedOnlyWhenCreateTableIsOn() throws SQLException {
        TargetWriter untyped = new TargetWriter(Db.of(Servers.get().primary), new TargetSql("typed_grow"), true);
        untyped.createTable();
        untyped.write(List.of(upsert("old", 1, "{\"amount\": 3}")));
        Map<String, String[]> cols = new LinkedHashMap<>();
        cols.put("amount", new String[] { "numeric(12,2)", null });
        TargetWriter off = new TargetWriter(Db.of(Servers.get().primary), new TargetSql("typed_grow"), false,
                new TargetWriter.Settings(KEY, new TargetShape(List.of(TargetColumn.of("amount", "numeric(12,2)", null)),
                        true), TargetWriter.Evolution.IGNORE));
        IllegalStateException e = assertThrows(IllegalStateException.class, off::prepare);
        assertTrue(e.getMessage().contains("column amount (numeric(12,2)) is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("tributary.pipelines.t.target.create-table=true"), e.getMessage());

        TargetWriter on = new TargetWriter(Db.of(Servers.get().primary), new TargetSql("typed_grow"), true,
                new TargetWriter.Settings(KEY, new TargetShape(List.of(TargetColumn.of("amount", "numeric(12,2)", null)),
                        true), TargetWriter.Evolution.IGNORE));
        on.prepare();
        on.write(List.of(upsert("new", 1, "{\"amount\": 4.5}")));
        assertEquals("new:4.50,old:-", OutboxWriter.query(Servers.get().primary,
                "SELECT string_agg(business_key || ':' || coalesce(amount::text, '-'), ',' ORDER BY business_key) "
                        + "FROM typed_grow_live"));
        assertEquals("{\"amount\": 3}", OutboxWriter.query(Servers.get().primary,
                "SELECT payload::text FROM typed_grow_live WHERE business_key = 'old'"), "kept payload stays");
    }

    @Test
    void ignoreWritesDeclaredColumnsOnlyAndFailTurnsRecordsWithNewFieldsAway() throws SQLException {
        Map<String, String[]> cols = new LinkedHashMap<>();
        cols.put("amount", new String[] { "numeric(12,2)", null });
        TargetWriter ignore = writer("typed_ignore", cols, false, TargetWriter.Evolution.IGNORE, true);
        ignore.createTable();
        TargetWriter.Written w = ignore.writeAll(List.of(upsert("a", 1, "{\"amount\": 1, \"note\": \"x\"}"),
                upsert("b", 1, "{\"amount\": 2, \"note\": \"y\", \"extra\": true}")));
        assertEquals(2, w.changed());
        assertTrue(w.unfit().isEmpty());
        assertEquals(2, ignore.unmappedFields(), "note and extra, each once");
        assertEquals("0", OutboxWriter.query(Servers.get().primary, "SELECT count(*) FROM pg_attribute WHERE "
                + "attrelid = 'typed_ignore'::regclass AND attname IN ('note', 'extra')"));

        TargetWriter fail = writer("typed_fail", cols, false, TargetWriter.Evolution.FAIL, true);
        fail.createTable();
        SyncRecord extra = upsert("b", 1, "{\"amount\": 2, \"note\": \"y\"}");
        w = fail.writeAll(List.of(upsert("a", 1, "{\"amount\": 1}"), extra));
        assertEquals(1, w.changed());
        assertEquals("field note has no column (tributary.pipelines.t.target.evolution=fail)", w.unfit().get(extra));
        assertNull(OutboxWriter.query(Servers.get().primary, "SELECT amount FROM typed_fail WHERE business_key = 'b'"));
    }

    @Test
    void typesParseFromTheirCommonSpellingsAndRefuseUnknownOnes() {
        assertEquals("character varying(20)", ColumnType.parse("VARCHAR(20)").sql());
        assertEquals("numeric(12,2)", ColumnType.parse("decimal(12, 2)").sql());
        assertEquals("timestamp with time zone", ColumnType.parse("timestamptz").sql());
        assertEquals("integer", ColumnType.parse("int4").sql());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ColumnType.parse("money"));
        assertTrue(e.getMessage().contains("is not one of text, varchar(n)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ColumnType.parse("varchar"));
        assertThrows(IllegalArgumentException.class, () -> ColumnType.parse("numeric(2,3)"));
        assertThrows(IllegalArgumentException.class, () -> TargetColumn.of("a", "text", "$..a"));
        assertThrows(IllegalArgumentException.class, () -> TargetColumn.of("a", "text", "$.items[*].a"));
        assertThrows(IllegalArgumentException.class, () -> TargetColumn.of("version", "text", null));
        assertThrows(IllegalArgumentException.class, () -> TargetColumn.of("a;drop", "text", null));
        assertEquals(List.of("a b", 2, "c"), TargetColumn.of("x", "text", "$['a b'][2].c").steps());
    }
}
