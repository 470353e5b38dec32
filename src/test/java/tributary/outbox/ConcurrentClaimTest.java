package tributary.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import tributary.config.TributaryConfig;
import tributary.testing.Db;
import tributary.testing.DefaultColumns;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;

/** Claims against a real PostgreSQL: concurrent collectors never share a row; expired leases are reclaimed. */
class ConcurrentClaimTest {

    private static final TributaryConfig.Columns DEFAULTS = DefaultColumns.NONE;

    private static OutboxStore store(DataSource ds, String table, String node) {
        return new OutboxStore(ds, OutboxTable.of(table, TributaryConfig.Layout.TRIBUTARY, DEFAULTS), "claims", node,
                List.of("DELETE"));
    }

    private static void fill(String table, int rows) throws SQLException {
        OutboxWriter.update(Servers.get().source, "INSERT INTO " + table + " (aggregate, business_key, version, payload) "
                + "SELECT 'claims', 'k' || g, 1, '{}'::jsonb FROM generate_series(1, ?) g", rows);
    }

    @Test
    void twoCollectorsNeverClaimTheSameRow() throws Exception {
        DataSource ds = Db.of(Servers.get().source);
        OutboxStore a = store(ds, "claim_test_a", "node-a");
        OutboxStore b = store(ds, "claim_test_a", "node-b");
        a.createTable();
        fill("claim_test_a", 20_000);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<List<Long>> fa = pool.submit(drain(a, 137));
            Future<List<Long>> fb = pool.submit(drain(b, 211));
            List<Long> claimedA = fa.get();
            List<Long> claimedB = fb.get();
            Set<Long> all = new HashSet<>(claimedA);
            assertEquals(claimedA.size(), all.size(), "collector a claimed a row twice");
            for (Long id : claimedB) {
                assertTrue(all.add(id), "row " + id + " claimed by both collectors");
            }
            assertEquals(20_000, all.size(), "every row claimed exactly once");
            assertTrue(claimedA.size() > 1_000 && claimedB.size() > 1_000,
                    "both collectors worked concurrently: " + claimedA.size() + " / " + claimedB.size());
        } finally {
            pool.shutdownNow();
        }
        assertEquals("20000", OutboxWriter.query(Servers.get().source,
                "SELECT count(*) FROM claim_test_a WHERE status = 'PROCESSING' AND attempts = 1"));
    }

    private static Callable<List<Long>> drain(OutboxStore store, int batch) {
        return () -> {
            List<Long> ids = new ArrayList<>();
            List<OutboxRecord> rows;
            while (!(rows = store.claim(batch, Duration.ofMinutes(5), 10)).isEmpty()) {
                rows.forEach(r -> ids.add(r.id()));
            }
            return ids;
        };
    }

    @Test
    void expiredLeasesAreReclaimedAndAttemptsCounted() throws Exception {
        DataSource ds = Db.of(Servers.get().source);
        OutboxStore crashed = store(ds, "claim_test_b", "crashed");
        OutboxStore survivor = store(ds, "claim_test_b", "survivor");
        crashed.createTable();
        fill("claim_test_b", 50);

        assertEquals(50, crashed.claim(100, Duration.ofSeconds(1), 10).size());
        assertTrue(survivor.claim(100, Duration.ofSeconds(1), 10).isEmpty(), "a live lease is exclusive");
        Thread.sleep(1_200);
        List<OutboxRecord> reclaimed = survivor.claim(100, Duration.ofSeconds(1), 10);
        assertEquals(50, reclaimed.size());
        assertTrue(reclaimed.stream().allMatch(r -> r.attempts() == 2));
        // The crashed replica can no longer mark rows it lost.
        long[] ids = reclaimed.stream().mapToLong(OutboxRecord::id).toArray();
        assertEquals(0, crashed.markEnqueued(ids));
        assertEquals(50, survivor.markEnqueued(ids));
        // A row that was enqueued but never acked (its record lost) is published again after the ack timeout.
        OutboxStore acked = new OutboxStore(ds, OutboxTable.of("claim_test_b", TributaryConfig.Layout.TRIBUTARY, DEFAULTS),
                "claims", "survivor", List.of("DELETE"), Duration.ofSeconds(1));
        assertEquals(0, acked.requeueUnacked(), "ENQUEUED rows wait for their ack");
        assertTrue(acked.claim(100, Duration.ofSeconds(1), 10).isEmpty());
        Thread.sleep(1_200);
        assertEquals(50, acked.requeueUnacked());
        List<OutboxRecord> again = acked.claim(100, Duration.ofMinutes(1), 10);
        assertEquals(50, again.size());
        assertTrue(again.stream().allMatch(r -> r.attempts() == 2), "a re-drive for a missing ack is no attempt");
        // Rows out of attempts become DEAD instead of being claimed forever.
        OutboxWriter.update(Servers.get().source, "UPDATE claim_test_b SET status = 'FAILED', next_attempt_at = now()");
        assertEquals(50, survivor.buryExhausted(Duration.ofSeconds(1), 2));
        fill("claim_test_b", 1);
        List<OutboxRecord> afterBurial = survivor.claim(100, Duration.ofSeconds(1), 2);
        assertEquals(1, afterBurial.size(), "only the new row is claimed, no buried one");
        assertEquals(1, afterBurial.get(0).attempts());
        assertEquals("50", OutboxWriter.query(Servers.get().source,
                "SELECT count(*) FROM claim_test_b WHERE status = 'DEAD' AND last_error LIKE '%attempt limit%'"));
    }
}
