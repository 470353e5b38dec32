package tributary.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import tributary.config.TributaryConfig;
import tributary.testing.Db;
import tributary.testing.DefaultColumns;
import tributary.testing.OutboxWriter;
import tributary.testing.Postgres;
import tributary.testing.Servers;

/**
 * Key-slice ownership between replicas against a real PostgreSQL: the slices are shared out, a slice taken over is
 * claimed from only when nothing of it is in flight, and a replica whose ownership session died claims nothing.
 */
class KeySlicesTest {

    private static final Duration LEASE = Duration.ofMinutes(1);
    private final Postgres pg = Servers.get().source;
    private final DataSource ds = Db.of(pg);

    private OutboxStore store(String table, String node) {
        return new OutboxStore(ds, OutboxTable.of(table, TributaryConfig.Layout.TRIBUTARY, DefaultColumns.NONE),
                "orders", node, List.of("DELETE"), Duration.ofMinutes(30));
    }

    private KeySlices slices(String table, OutboxStore store, int n) {
        return new KeySlices("orders", () -> ds.getConnection(), store,
                table + "|orders", n, "tributary.pipelines.orders.key-slices");
    }

    private static List<OutboxRecord> claim(OutboxStore store, KeySlices slices) throws SQLException {
        return store.claim(slices.view(), 0, 1, 1000, Long.MAX_VALUE, LEASE, 20);
    }

    private static void insert(String table, String key, int version) throws SQLException {
        OutboxWriter.update(Servers.get().source, "INSERT INTO " + table + " (aggregate, business_key, version, payload) "
                + "VALUES ('orders', ?, ?, '{}')", key, version);
    }

    @Test
    void aLoneReplicaOwnsEverySliceAndTwoShareThemWithoutSharingAKey() throws Exception {
        String table = "slices_test_a";
        OutboxStore a = store(table, "node-a");
        OutboxStore b = store(table, "node-b");
        a.createTable();
        OutboxWriter.update(pg, "INSERT INTO " + table + " (aggregate, business_key, version, payload) "
                + "SELECT 'orders', 'k' || (g % 40), g, '{}' FROM generate_series(1, 400) g");
        try (KeySlices sa = slices(table, a, 8); KeySlices sb = slices(table, b, 8)) {
            sa.tick(LEASE);
            assertEquals(8, sa.view().ready().length, "alone, a replica owns every slice");
            sb.tick(LEASE);
            assertEquals(0, sb.view().ready().length, "no slice is free yet");
            sa.tick(LEASE);
            assertEquals(4, sa.view().ready().length, "with two replicas, a gives half up");
            sb.tick(LEASE);
            assertEquals(4, sb.view().ready().length, "b takes them: nothing of them is in flight");

            List<OutboxRecord> byA = claim(a, sa);
            List<OutboxRecord> byB = claim(b, sb);
            assertEquals(400, byA.size() + byB.size(), "the two shares are every row");
            Set<String> keysA = byA.stream().map(OutboxRecord::key).collect(Collectors.toSet());
            Set<String> keysB = byB.stream().map(OutboxRecord::key).collect(Collectors.toSet());
            assertFalse(keysA.isEmpty() || keysB.isEmpty(), "both replicas claim keys");
            assertTrue(Collections.disjoint(keysA, keysB), "no key is claimed by both replicas");
        }
    }

    @Test
    void aSliceTakenOverWaitsForItsRowsInFlightSoAKeysVersionsStayInOrder() throws Exception {
        String table = "slices_test_b";
        OutboxStore a = store(table, "node-a");
        OutboxStore b = store(table, "node-b");
        a.createTable();
        try (KeySlices sa = slices(table, a, 4); KeySlices sb = slices(table, b, 4)) {
            sa.tick(LEASE);
            insert(table, "x", 1);
            List<OutboxRecord> first = claim(a, sa);
            assertEquals(1, first.size());
            insert(table, "x", 2);

            // a's ownership session dies (a hung connection the server gave up on); a has not noticed yet.
            OutboxWriter.query(pg, "SELECT pg_terminate_backend(?)", sa.view().ownerPid());
            assertEquals(List.of(), claim(a, sa), "a claims nothing from slices it no longer holds");
            assertThrows(SQLException.class, () -> sa.tick(LEASE), "a notices at its next tick");
            assertEquals(0, sa.view().ready().length, "and gives every slice up");

            // b takes every slice over, but the one with x's first version in flight waits.
            sb.tick(LEASE);
            assertEquals(3, sb.view().ready().length, "the slice with a row in flight is not ready");
            assertEquals(List.of(), claim(b, sb), "x's second version waits for its first");

            a.markDone(new long[] { first.get(0).id() }, false);
            sb.tick(LEASE);
            assertEquals(4, sb.view().ready().length);
            List<OutboxRecord> second = claim(b, sb);
            assertEquals(List.of(2L), second.stream().map(OutboxRecord::version).toList());
        }
    }

    @Test
    void aSliceIsNotReadyWhileAClaimThatReadTheOldOwnershipIsOpen() throws Exception {
        String table = "slices_test_c";
        OutboxStore b = store(table, "node-b");
        b.createTable();
        try (KeySlices sb = slices(table, b, 4);
                Connection claim = ds.getConnection()) {
            claim.setAutoCommit(false);
            try (PreparedStatement ps = claim.prepareStatement(KeySlices.GATE_SHARED)) {
                ps.setInt(1, sb.view().gateKey());
                ps.setArray(2, claim.createArrayOf("integer", new Integer[] { 0, 1 }));
                ps.executeQuery().close();
            }
            sb.tick(LEASE);
            assertEquals(List.of(2, 3), ints(sb.view().ready()), "slices 0 and 1 wait for the open claim");
            claim.commit();
            sb.tick(LEASE);
            assertEquals(List.of(0, 1, 2, 3), ints(sb.view().ready()));
        }
    }

    @Test
    void aClaimHoldsItsGateUntilItCommits() throws Exception {
        String table = "slices_test_e";
        OutboxStore b = store(table, "node-b");
        b.createTable();
        insert(table, "z", 1);
        // Only a claim turns PENDING into PROCESSING; this trigger makes that update wait for the test's lock.
        OutboxWriter.update(pg, "CREATE FUNCTION slices_test_e_wait() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + "IF OLD.status = 'PENDING' AND NEW.status = 'PROCESSING' THEN PERFORM pg_advisory_xact_lock(4242); "
                + "END IF; RETURN NEW; END $$");
        OutboxWriter.update(pg, "CREATE TRIGGER slices_test_e_wait BEFORE UPDATE ON " + table
                + " FOR EACH ROW EXECUTE FUNCTION slices_test_e_wait()");
        String gate = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted "
                + "AND CAST(classid AS bigint) = ? AND objsubid = 2";
        ExecutorService claimer = Executors.newSingleThreadExecutor();
        try (KeySlices sb = slices(table, b, 4); Connection hold = ds.getConnection()) {
            sb.tick(LEASE);
            assertEquals(4, sb.view().ready().length);
            long gateKey = sb.view().gateKey();
            try (PreparedStatement ps = hold.prepareStatement("SELECT pg_advisory_lock(4242)")) {
                ps.executeQuery().close();
            }
            Future<List<OutboxRecord>> claimed = claimer.submit(() -> claim(b, sb));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"4".equals(OutboxWriter.query(pg, gate, gateKey))) {
                assertTrue(System.nanoTime() < deadline, "the claim's update never ran under its gate");
                Thread.sleep(20);
            }
            assertEquals("1", OutboxWriter.query(pg, "SELECT count(DISTINCT g.pid) FROM pg_locks g JOIN pg_locks w "
                    + "ON w.pid = g.pid AND w.locktype = 'advisory' AND NOT w.granted AND w.objid = 4242 WHERE "
                    + "g.locktype = 'advisory' AND g.granted AND CAST(g.classid AS bigint) = ? AND g.objsubid = 2",
                    gateKey), "the backend waiting in the claim's update is the one holding the gate");
            try (PreparedStatement ps = hold.prepareStatement("SELECT pg_advisory_unlock(4242)")) {
                ps.executeQuery().close();
            }
            assertEquals(List.of(1L), claimed.get(30, TimeUnit.SECONDS).stream()
                    .map(OutboxRecord::version).toList());
            assertEquals("0", OutboxWriter.query(pg, gate, gateKey), "the claim's commit released its gate");
            assertEquals("PROCESSING", OutboxWriter.query(pg, "SELECT status FROM " + table));
        } finally {
            claimer.shutdownNow();
        }
    }

    @Test
    void aRestartedNodeHandsItsPreviousProcessClaimsBackAtOnce() throws Exception {
        String table = "slices_test_d";
        OutboxStore before = store(table, "node-a");
        before.createTable();
        insert(table, "y", 1);
        try (KeySlices previous = slices(table, before, 4)) {
            previous.tick(LEASE);
            assertEquals(1, claim(before, previous).size());
        } // the process is gone: its session and locks with it, its claim left PROCESSING under a long lease
        insert(table, "y", 2);
        OutboxStore after = store(table, "node-a");
        try (KeySlices restarted = slices(table, after, 4)) {
            restarted.tick(LEASE);
            assertEquals(4, restarted.view().ready().length, "its own previous claim does not hold the slice");
            assertEquals(List.of(1L, 2L), claim(after, restarted).stream().map(OutboxRecord::version).toList(),
                    "the first version is claimed again, before the second");
        }
    }

    private static List<Integer> ints(int[] values) {
        List<Integer> list = new ArrayList<>();
        for (int v : values) {
            list.add(v);
        }
        return list;
    }
}
