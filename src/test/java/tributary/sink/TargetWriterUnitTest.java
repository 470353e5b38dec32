package tributary.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tributary.crypto.Envelope;

class TargetWriterUnitTest {

    private static SyncRecord r(String key, long version, boolean delete) {
        return new SyncRecord(key, new Envelope(version, version, delete, Instant.EPOCH, delete ? null : "{}"));
    }

    @Test
    void keepsTheNewestVersionPerKeyInKeyOrder() {
        Map<String, SyncRecord> newest = TargetWriter.newestPerKey(List.of(r("b", 1, false), r("a", 3, true),
                r("b", 4, false), r("a", 2, false), r("b", 2, false)));
        assertEquals(List.of("a", "b"), List.copyOf(newest.keySet()));
        assertEquals(3, newest.get("a").envelope().version());
        assertTrue(newest.get("a").envelope().delete());
        assertEquals(4, newest.get("b").envelope().version());
    }

    @Test
    void upsertIsVersionGuardedAndBindsArrays() {
        String upsert = new TargetSql("analytics.orders").upsert();
        assertTrue(upsert.startsWith("INSERT INTO \"analytics\".\"orders\" AS cur"), upsert);
        assertTrue(upsert.endsWith("WHERE cur.version < EXCLUDED.version"), upsert);
        assertEquals(5, upsert.chars().filter(c -> c == '?').count());
        assertTrue(new TargetSql("analytics.orders").createTable().startsWith("CREATE SCHEMA IF NOT EXISTS \"analytics\";"));
        assertEquals("\"analytics\".\"orders_live\"", new TargetSql("analytics.orders").view());
    }
}
