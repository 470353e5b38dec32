package tributary.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import tributary.config.TributaryConfig;
import tributary.testing.Db;
import tributary.testing.DefaultColumns;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;

/**
 * Outbox status changes against a real PostgreSQL: what each statement may change, in which pipeline, and what
 * counts as an attempt.
 */
class OutboxStatusTest {

    private static final TributaryConfig.Columns DEFAULTS = DefaultColumns.NONE;

    private final DataSource ds = Db.of(Servers.get().source);

    private OutboxStore store(String table, String aggregate, Duration ackTimeout) {
        return new OutboxStore(ds, OutboxTable.of(table, TributaryConfig.Layout.TRIBUTARY, DEFAULTS), aggregate, "node",
                List.of("DELETE"), ackTimeout);
    }

    private static long insert(String table, String aggregate, String status, String statusAge) throws SQLException {
        return Long.parseLong(OutboxWriter.query(Servers.get().source, "INSERT INTO " + table + " (aggregate, business_key, "
                + "version, payload, status, status_at, created_at) VALUES (?, 'k', 1, '{}', ?, now() - CAST(? AS interval), "
                + "now() - interval '30 days') RETURNING id", aggregate, status, statusAge));
    }

    private static String status(String table, long id) throws SQLException {
        return OutboxWriter.query(Servers.get().source, "SELECT status || '/' || attempts FROM " + table + " WHERE id = ?", id);
    }

    @Test
    void controlStatementsChangeOnlyTheirPipelinesRowsInStatusesTheyMayChange() throws Exception {
        OutboxStore orders = store("status_test_a", "orders", Duration.ofMinutes(30));
        orders.createTable();
        long foreign = insert("status_test_a", "payments", "ENQUEUED", "0s");
        long done = insert("status_test_a", "orders", "DONE", "0s");
        long enqueued = insert("status_test_a", "orders", "ENQUEUED", "0s");

        assertEquals(0, orders.markDone(new long[] { foreign }, false), "another pipeline's row");
        assertEquals(0, orders.markDone(new long[] { foreign }, true), "another pipeline's row is never deleted");
        assertEquals(0, orders.markDead(Map.of(foreign, "forged")));
        assertEquals(0, orders.markDead(Map.of(done, "late dead letter")), "a DONE row stays DONE");
        assertEquals(0, orders.markParked(new long[] { done }), "a DONE row is never parked again");
        assertEquals("ENQUEUED/0", status("status_test_a", foreign));
        assertEquals("DONE/0", status("status_test_a", done));

        assertEquals(1, orders.markParked(new long[] { enqueued }));
        assertEquals("PARKED/0", status("status_test_a", enqueued), "a primary spool holds it: not DONE");
        assertEquals(1, orders.markDone(new long[] { enqueued }, false));
        assertEquals("DONE/0", status("status_test_a", enqueued));
        assertEquals(1, orders.markDead(Map.of(insert("status_test_a", "orders", "ENQUEUED", "0s"), "key\u0000with NUL")),
                "a reason with a control character is stored, cleaned");
    }

    @Test
    void finalRowsArePurgedByWhenTheyBecameFinalNotByCreation() throws Exception {
        OutboxStore orders = store("status_test_b", "orders", Duration.ofMinutes(30));
        orders.createTable();
        // Created 30 days ago, final just now: kept. Final two hours ago: purged.
        long justDone = insert("status_test_b", "orders", "DONE", "0s");
        long justDead = insert("status_test_b", "orders", "DEAD", "0s");
        long oldDone = insert("status_test_b", "orders", "DONE", "2 hours");
        assertEquals(1, orders.purge(OutboxStore.Status.DONE, Duration.ofHours(1), 10));
        assertEquals(0, orders.purge(OutboxStore.Status.DEAD, Duration.ofHours(1), 10));
        assertEquals("DONE/0", status("status_test_b", justDone));
        assertEquals("DEAD/0", status("status_test_b", justDead));
        assertEquals(null, status("status_test_b", oldDone));
    }

    @Test
    void aPurgeNeverDeletesARowAnOperatorRequeuesMeanwhile() throws Exception {
        OutboxStore orders = store("status_test_c", "orders", Duration.ofMinutes(30));
        orders.createTable();
        long dead = insert("status_test_c", "orders", "DEAD", "40 days");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Connection operator = Db.of(Servers.get().source).getConnection()) {
            operator.setAutoCommit(false);
            // The operator re-queues the row; the purge runs while that transaction is open.
            try (var st = operator.prepareStatement("UPDATE status_test_c SET status = 'PENDING' WHERE id = ?")) {
                st.setLong(1, dead);
                st.executeUpdate();
            }
            CountDownLatch started = new CountDownLatch(1);
            Future<Long> purge = pool.submit(() -> {
                started.countDown();
                return orders.purge(OutboxStore.Status.DEAD, Duration.ofDays(30), 10);
            });
            started.await();
            Thread.sleep(300);
            operator.commit();
            assertEquals(0, purge.get(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals("PENDING/0", status("status_test_c", dead));
    }

    @Test
    void infrastructureFaultsAndAckTimeoutsCountNoAttempt() throws Exception {
        OutboxStore orders = store("status_test_d", "orders", Duration.ofSeconds(1));
        orders.createTable();
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_d (aggregate, business_key, version, payload) "
                + "SELECT 'orders', 'k' || g, 1, '{}' FROM generate_series(1, 10) g");
        for (int round = 0; round < 30; round++) {
            long[] ids = orders.claim(100, Duration.ofMinutes(1), 20).stream().mapToLong(OutboxRecord::id).toArray();
            assertEquals(10, ids.length, "round " + round);
            assertEquals(10, orders.release(ids));
        }
        assertEquals(0, orders.buryExhausted(Duration.ofMinutes(1), 20));
        assertEquals("10", OutboxWriter.query(Servers.get().source,
                "SELECT count(*) FROM status_test_d WHERE status = 'PENDING' AND attempts = 0"),
                "30 released claims (a long Kafka outage) burned no attempt");

        long[] ids = orders.claim(100, Duration.ofMinutes(1), 20).stream().mapToLong(OutboxRecord::id).toArray();
        assertEquals(10, orders.markEnqueued(ids));
        assertEquals(0, orders.requeueUnacked(), "published just now: its ack may be on the way");
        OutboxWriter.update(Servers.get().source, "UPDATE status_test_d SET claimed_at = now() - interval '1 hour'");
        assertEquals(0, orders.requeueUnacked(), "an old claim does not matter; publication does");
        Thread.sleep(1_100);
        assertEquals(10, orders.requeueUnacked());
        assertEquals("10", OutboxWriter.query(Servers.get().source,
                "SELECT count(*) FROM status_test_d WHERE status = 'PENDING' AND attempts = 0"));
    }

    @Test
    void anOutboxTableFromBeforeStatusAtFailsStartUpWithItsUpgrade() throws Exception {
        OutboxWriter.update(Servers.get().source, "CREATE TABLE status_test_old (id bigserial PRIMARY KEY, aggregate text, "
                + "business_key text, version bigint, operation text, payload jsonb, created_at timestamptz, status text, "
                + "attempts int, next_attempt_at timestamptz, claimed_by text, claimed_at timestamptz, last_error text)");
        OutboxStore old = store("status_test_old", "orders", Duration.ofMinutes(30));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> old.checkColumns("tributary.pipelines.orders.source.table"));
        assertTrue(e.getMessage().startsWith("tributary.pipelines.orders.source.table"), e.getMessage());
        assertTrue(e.getMessage().contains("ADD COLUMN IF NOT EXISTS status_at"), e.getMessage());
        try (Connection c = ds.getConnection(); var st = c.createStatement()) {
            st.execute(e.getMessage().substring(e.getMessage().indexOf("ALTER TABLE")));
        }
        old.checkColumns("tributary.pipelines.orders.source.table");
    }

    @Test
    void aClaimStopsAtItsByteBudgetButAlwaysTakesOneRow() throws Exception {
        OutboxStore orders = store("status_test_e", "orders", Duration.ofMinutes(30));
        orders.createTable();
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_e (aggregate, business_key, version, payload) "
                + "SELECT 'orders', 'k' || g, 1, jsonb_build_object('x', repeat('a', 100000)) FROM generate_series(1, 10) g");
        assertEquals(3, orders.claim(100, 250_000, Duration.ofMinutes(1), 20).size(), "about 100 kB each");
        assertEquals(1, orders.claim(100, 10, Duration.ofMinutes(1), 20).size(), "one row even over the budget");
        assertEquals(6, orders.claim(100, Long.MAX_VALUE, Duration.ofMinutes(1), 20).size(), "rows past the budget stayed due");
    }
}
