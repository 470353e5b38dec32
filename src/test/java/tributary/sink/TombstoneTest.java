package tributary.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import tributary.crypto.Envelope;
import tributary.testing.Db;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;

/**
 * Version guard and tombstones against a real PostgreSQL, for every arrival order, on a payload-only target. The
 * same cases run on a typed target in {@link TypedTombstoneTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TombstoneTest {

    private TargetWriter writer;

    /** The table the cases write. */
    String table() {
        return "tomb_test";
    }

    /** A writer for the table; a second one is made for the counting case. */
    TargetWriter newWriter() {
        return new TargetWriter(Db.of(Servers.get().primary), new TargetSql(table()));
    }

    /** The row's data as JSON text, or NULL. */
    String data() {
        return "payload::text";
    }

    /** Sets the row's data to {"v": 3}. */
    String dataIsThree() {
        return "payload = '{\"v\": 3}'";
    }

    @BeforeAll
    void createTable() throws SQLException {
        writer = newWriter();
        writer.createTable();
    }

    private static SyncRecord upsert(String key, long version) {
        return new SyncRecord(key, new Envelope(version, version, false, Instant.now(), "{\"v\": " + version + "}"));
    }

    private static SyncRecord delete(String key, long version) {
        return new SyncRecord(key, new Envelope(version, version, true, Instant.now(), null));
    }

    private String state(String key) throws SQLException {
        return OutboxWriter.query(Servers.get().primary, "SELECT version || ':' || deleted || ':' || coalesce(" + data()
                + ", '-') FROM " + table() + " WHERE business_key = ?", key);
    }

    private String live(String key) throws SQLException {
        return OutboxWriter.query(Servers.get().primary, "SELECT count(*) FROM " + table() + "_live WHERE business_key = ?",
                key);
    }

    @Test
    void aDeleteStaysDeletedWhateverOrderTheRecordsArriveIn() throws SQLException {
        List<List<Integer>> orders = permutations(List.of(0, 1, 2));
        assertEquals(6, orders.size());
        int n = 0;
        for (List<Integer> order : orders) {
            String key = "perm-" + n++;
            SyncRecord[] records = { upsert(key, 1), delete(key, 3), upsert(key, 2) };
            for (int i : order) {
                writer.write(List.of(records[i]));
            }
            assertEquals("3:true:-", state(key), "order " + order);
            assertEquals("0", live(key), "order " + order);
        }
        // The same three in one batch.
        writer.write(List.of(upsert("batch", 1), delete("batch", 3), upsert("batch", 2)));
        assertEquals("3:true:-", state("batch"));
    }

    @Test
    void anUnknownKeysDeleteStillLeavesItsTombstone() throws SQLException {
        writer.write(List.of(delete("never-seen", 5)));
        assertEquals("5:true:-", state("never-seen"));
        writer.write(List.of(upsert("never-seen", 4)));
        assertEquals("5:true:-", state("never-seen"));
        writer.write(List.of(upsert("never-seen", 6)));
        assertEquals("6:false:{\"v\": 6}", state("never-seen"), "a newer version re-creates the row");
        assertEquals("1", live("never-seen"));
    }

    @Test
    void anOlderUpdateNeverOverwritesANewerOne() throws SQLException {
        writer.write(List.of(upsert("ooo", 7)));
        writer.write(List.of(upsert("ooo", 3)));
        writer.write(List.of(upsert("ooo", 7)));
        assertEquals("7:false:{\"v\": 7}", state("ooo"));
    }

    @Test
    void purgeRemovesOnlyExpiredTombstones() throws SQLException {
        writer.write(List.of(delete("purge-old-1", 2), delete("purge-old-2", 2), delete("purge-new", 2),
                upsert("purge-live", 2)));
        OutboxWriter.update(Servers.get().primary, "UPDATE " + table() + " SET synced_at = now() - interval '8 days' "
                + "WHERE business_key IN ('purge-old-1', 'purge-old-2', 'purge-live')");
        writer.purgeTombstones(Duration.ofDays(7), 1);
        assertEquals(null, state("purge-old-1"));
        assertEquals(null, state("purge-old-2"));
        assertEquals("2:true:-", state("purge-new"), "a young tombstone stays");
        assertEquals("2:false:{\"v\": 2}", state("purge-live"), "live rows are never purged, however old");
    }

    @Test
    void aKeyReCreatedWhileThePurgeRunsKeepsItsLiveRow() throws Exception {
        writer.write(List.of(delete("purge-race", 2)));
        OutboxWriter.update(Servers.get().primary,
                "UPDATE " + table() + " SET synced_at = now() - interval '8 days' WHERE business_key = 'purge-race'");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection sync = Db.of(Servers.get().primary).getConnection()) {
            // The sink re-creates the key (a newer upsert) in a transaction still open while the purge runs.
            sync.setAutoCommit(false);
            try (var st = sync.prepareStatement("UPDATE " + table() + " SET version = 3, deleted = false, "
                    + dataIsThree() + ", synced_at = clock_timestamp() WHERE business_key = 'purge-race'")) {
                st.executeUpdate();
            }
            Future<Long> purge = pool.submit(() -> writer.purgeTombstones(Duration.ofDays(7), 10));
            Thread.sleep(500);
            sync.commit();
            purge.get(10, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertEquals("3:false:{\"v\": 3}", state("purge-race"), "the purge must not take the re-created row");
    }

    @Test
    void olderAndConflictingVersionsAreCountedNotApplied() throws SQLException {
        TargetWriter counted = newWriter();
        counted.write(List.of(upsert("stale-1", 5)));
        counted.write(List.of(upsert("stale-1", 4), upsert("stale-2", 1)));
        assertEquals(1, counted.olderRecords());
        assertEquals(0, counted.conflictingRecords());
        counted.write(List.of(new SyncRecord("stale-1", new Envelope(5, 5, false, Instant.now(), "{\"other\": 1}"))));
        assertEquals(2, counted.olderRecords());
        assertEquals(1, counted.conflictingRecords(), "same version, other payload");
        assertEquals("5:false:{\"v\": 5}", state("stale-1"));
    }

    private static List<List<Integer>> permutations(List<Integer> items) {
        if (items.isEmpty()) {
            return List.of(List.of());
        }
        List<List<Integer>> out = new ArrayList<>();
        for (Integer first : items) {
            List<Integer> rest = new ArrayList<>(items);
            rest.remove(first);
            for (List<Integer> tail : permutations(rest)) {
                List<Integer> p = new ArrayList<>();
                p.add(first);
                p.addAll(tail);
                out.add(p);
            }
        }
        return out;
    }
}
