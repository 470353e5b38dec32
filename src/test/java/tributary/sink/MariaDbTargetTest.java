package tributary.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import tributary.crypto.Envelope;
import tributary.testing.MariaDb;

/**
 * A MariaDB target against a real MariaDB server: every declared type written as MariaDB holds it, the version
 * guard, tombstones, keys compared exactly, the live view, schema evolution read back after a restart, the start-up
 * checks, the purge.
 */
class MariaDbTargetTest {

    private static final String KEY = "tributary.pipelines.t.target.table";
    private static MariaDb db;

    @BeforeAll
    static void start() throws Exception {
        db = new MariaDb(Files.createTempDirectory("tributary-mariadb-target"), false).start();
    }

    @AfterAll
    static void stop() {
        db.close();
    }

    private static MariaDbTargetWriter writer(String table, Map<String, String> columns, boolean payload,
            TargetWriter.Evolution evolution, boolean create) throws SQLException {
        List<TargetColumn> cols = new ArrayList<>();
        columns.forEach((name, type) -> cols.add(TargetColumn.of(name, type, null)));
        return new MariaDbTargetWriter(db.dataSource(), table, create,
                new TargetWriter.Settings(KEY, new TargetShape(cols, payload), evolution));
    }

    private static SyncRecord upsert(String key, long version, String json) {
        return new SyncRecord(key, new Envelope(version, version, false, Instant.parse("2026-12-02T10:00:00Z"), json));
    }

    private static SyncRecord delete(String key, long version) {
        return new SyncRecord(key, new Envelope(version, version, true, Instant.now(), null));
    }

    private static List<String> rows(String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    row.append(i > 1 ? "|" : "").append(rs.getString(i));
                }
                rows.add(row.toString());
            }
        }
        return rows;
    }

    @Test
    void everyDeclaredTypeArrivesAsTheBusinessWroteIt() throws SQLException {
        Map<String, String> cols = new LinkedHashMap<>();
        cols.put("c_text", "text");
        cols.put("c_code", "varchar(5)");
        cols.put("c_small", "smallint");
        cols.put("c_int", "integer");
        cols.put("c_big", "bigint");
        cols.put("c_amount", "numeric(12,2)");
        cols.put("c_flag", "boolean");
        cols.put("c_day", "date");
        cols.put("c_local", "timestamp");
        cols.put("c_at", "timestamptz");
        cols.put("c_id", "uuid");
        cols.put("c_doc", "jsonb");
        MariaDbTargetWriter w = writer("typed_all", cols, true, TargetWriter.Evolution.IGNORE, true);
        w.createTable();
        assertEquals(2, w.write(List.of(
                upsert("a", 1, "{\"c_text\": \"Grüße\", \"c_code\": \"AB12\", \"c_small\": -32768, \"c_int\": \"2147483647\", "
                        + "\"c_big\": 9223372036854775807, \"c_amount\": \"9999999999.99\", \"c_flag\": \"yes\", "
                        + "\"c_day\": \"2026-02-28\", \"c_local\": \"2026-12-02T10:15:30.123456\", "
                        + "\"c_at\": \"2026-12-02T10:15:30.5+02:00\", \"c_id\": \"0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9\", "
                        + "\"c_doc\": {\"n\": [1, 2.50]}}"),
                upsert("b", 1, "{\"c_amount\": 12345.675, \"c_flag\": false}"))));
        assertEquals(List.of("a|1|0|Grüße|AB12|-32768|2147483647|9223372036854775807|9999999999.99|1|2026-02-28|"
                + "2026-12-02 10:15:30.123456|2026-12-02 08:15:30.500000|0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9|"
                + "{\"n\":[1,2.50]}|2026-12-02 10:00:00.000000",
                "b|1|0|null|null|null|null|null|12345.68|0|null|null|null|null|null|2026-12-02 10:00:00.000000"),
                rows("SELECT business_key, version, deleted, c_text, c_code, c_small, c_int, c_big, c_amount, c_flag, "
                        + "c_day, c_local, c_at, c_id, c_doc, source_created_at FROM typed_all ORDER BY business_key"));
        assertEquals(List.of("business_key|varchar(768)", "version|bigint(20)", "payload|longtext",
                "c_text|longtext", "c_code|varchar(5)", "c_small|smallint(6)", "c_int|int(11)", "c_big|bigint(20)",
                "c_amount|decimal(12,2)", "c_flag|tinyint(1)", "c_day|date", "c_local|datetime(6)", "c_at|datetime(6)",
                "c_id|char(36)", "c_doc|longtext", "deleted|tinyint(1)", "source_created_at|datetime(6)",
                "synced_at|datetime(6)"),
                rows("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' "
                        + "AND TABLE_NAME = 'typed_all' ORDER BY ORDINAL_POSITION"));
        assertEquals(List.of("{\"c_amount\": 12345.675, \"c_flag\": false}"),
                rows("SELECT payload FROM typed_all_live WHERE business_key = 'b'"));

        // Values MariaDB cannot hold are turned away alone, with the reason, before anything is written.
        TargetWriter.Written w2 = w.writeAll(List.of(upsert("wide", 1, "{\"c_amount\": 1e12}"),
                upsert("old", 1, "{\"c_day\": \"0999-12-31\"}"), upsert("x".repeat(769), 1, "{}"),
                upsert("fine", 1, "{\"c_int\": 5}")));
        assertEquals(1, w2.changed());
        assertEquals(3, w2.unfit().size());
        assertTrue(w2.unfit().values().stream().anyMatch(r -> r.contains("years 1000 to 9999")), w2.unfit().toString());
        assertTrue(w2.unfit().values().stream().anyMatch(r -> r.contains("longer than 768")), w2.unfit().toString());
    }

    @Test
    void theVersionGuardAndTombstonesHoldAsInPostgres() throws SQLException {
        MariaDbTargetWriter w = writer("guarded", Map.of("amount", "numeric(10,2)"), true,
                TargetWriter.Evolution.IGNORE, true);
        w.createTable();
        // Keys compare exactly: case and trailing spaces make other keys, as in PostgreSQL's text.
        assertEquals(3, w.write(List.of(upsert("k", 5, "{\"amount\": 5}"), upsert("K", 1, "{\"amount\": 1}"),
                upsert("k ", 1, "{\"amount\": 2}"))));
        // An older version is turned away; within one batch only the newest of a key is written.
        assertEquals(0, w.write(List.of(upsert("k", 4, "{\"amount\": 4}"))));
        assertEquals(1, w.write(List.of(upsert("K", 3, "{\"amount\": 3}"), upsert("K", 2, "{\"amount\": 2}"))));
        assertEquals(List.of("K|3|3.00", "k|5|5.00", "k |1|2.00"),
                rows("SELECT business_key, version, amount FROM guarded ORDER BY business_key"));
        assertEquals(1, w.olderRecords());
        // The same version with other data keeps the target's row and is counted.
        assertEquals(0, w.write(List.of(upsert("k", 5, "{\"amount\": 99}"))));
        assertEquals(1, w.conflictingRecords());
        assertEquals(0, w.write(List.of(upsert("k", 5, "{\"amount\": 5}"))));
        assertEquals(1, w.conflictingRecords(), "a replay of the same data is no conflict");

        // A delete is a tombstone with its version; an older upsert does not resurrect it, a newer one does.
        assertEquals(1, w.write(List.of(delete("k", 6))));
        assertEquals(0, w.write(List.of(upsert("k", 5, "{\"amount\": 5}"))));
        assertEquals(List.of("6|1|null|null"), rows("SELECT version, deleted, amount, payload FROM guarded "
                + "WHERE business_key = 'k'"));
        assertEquals(List.of("K", "k "), rows("SELECT business_key FROM guarded_live ORDER BY business_key"));
        assertEquals(1, w.write(List.of(delete("K", 4))));
        assertEquals(1, w.write(List.of(upsert("K", 7, "{\"amount\": 7}"))));
        assertEquals(List.of("K|7|0|7.00"), rows("SELECT business_key, version, deleted, amount FROM guarded "
                + "WHERE business_key = 'K'"));

        // Expired tombstones go; live rows stay.
        assertEquals(0, w.purgeTombstones(Duration.ofHours(1), 10));
        assertEquals(1, w.purgeTombstones(Duration.ZERO, 10));
        assertEquals(List.of("K", "k "), rows("SELECT business_key FROM guarded ORDER BY business_key"));
    }

    @Test
    void aNewFieldBecomesAColumnAndKeepsItsTypeAfterARestart() throws SQLException {
        MariaDbTargetWriter w = writer("evolving", Map.of("amount", "numeric(10,2)"), false,
                TargetWriter.Evolution.ADD_COLUMN, true);
        w.createTable();
        assertEquals(1, w.write(List.of(upsert("a", 1, "{\"amount\": 1, \"paid_at\": \"2026-12-02T10:00:00+01:00\", "
                + "\"ratio\": 0.125}"))));
        assertEquals(2, w.addedColumns());
        assertEquals(List.of("2026-12-02 09:00:00.000000|0.125000000000000000000000000000"),
                rows("SELECT paid_at, ratio FROM evolving_live"));
        // A restarted writer reads the added columns back with their types: an instant with an offset still fits.
        MariaDbTargetWriter again = writer("evolving", Map.of("amount", "numeric(10,2)"), false,
                TargetWriter.Evolution.ADD_COLUMN, false);
        again.prepare();
        assertEquals("timestamp with time zone", again.shape().column("paid_at").type().sql());
        assertEquals(1, again.write(List.of(upsert("b", 1, "{\"amount\": 2, \"paid_at\": \"2026-12-02T12:00:00Z\"}"))));
        assertEquals(0, again.addedColumns());
        assertEquals(List.of("2026-12-02 12:00:00.000000"), rows("SELECT paid_at FROM evolving WHERE business_key = 'b'"));
    }

    @Test
    void startUpChecksNameTheKeyAndTheTypes() throws SQLException {
        MariaDbTargetWriter missing = writer("absent", Map.of("amount", "numeric(10,2)"), false,
                TargetWriter.Evolution.IGNORE, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, missing::prepare);
        assertTrue(e.getMessage().contains("tributary.pipelines.t.target.create-table=true"), e.getMessage());

        writer("retyped", Map.of("amount", "numeric(10,2)"), false, TargetWriter.Evolution.IGNORE, true).createTable();
        MariaDbTargetWriter other = writer("retyped", Map.of("amount", "numeric(12,4)"), false,
                TargetWriter.Evolution.IGNORE, true);
        e = assertThrows(IllegalStateException.class, other::prepare);
        assertTrue(e.getMessage().contains("column amount") && e.getMessage().contains("decimal(12,4)")
                && e.getMessage().contains("has decimal(10,2)") && e.getMessage()
                        .contains("tributary.pipelines.t.target.columns.amount.type"), e.getMessage());

        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class, () -> writer("wide",
                Map.of("amount", "numeric(80,2)"), false, TargetWriter.Evolution.IGNORE, true));
        assertTrue(wide.getMessage().startsWith("tributary.pipelines.t.target.columns.amount.type: "), wide.getMessage());
    }
}
