package tributary.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
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

    /** The outbox DDL this release's predecessor shipped (V1): no version record, no purge index. */
    private static void createV1(String table) throws SQLException {
        OutboxWriter.update(Servers.get().source, "CREATE TABLE " + table + " (id bigserial PRIMARY KEY, aggregate text "
                + "NOT NULL, business_key text NOT NULL, version bigint NOT NULL, operation text NOT NULL DEFAULT 'UPSERT', "
                + "payload jsonb, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), status text NOT NULL DEFAULT "
                + "'PENDING', status_at timestamptz NOT NULL DEFAULT now(), attempts int NOT NULL DEFAULT 0, "
                + "next_attempt_at timestamptz, claimed_by text, claimed_at timestamptz, last_error text)");
        OutboxWriter.update(Servers.get().source, "CREATE INDEX " + table + "_due ON " + table + " (aggregate, id) "
                + "WHERE status IN ('PENDING', 'FAILED', 'PROCESSING')");
        OutboxWriter.update(Servers.get().source, "CREATE INDEX " + table + "_finished ON " + table + " (status, status_at) "
                + "WHERE status IN ('DONE', 'DEAD')");
        OutboxWriter.update(Servers.get().source, "INSERT INTO " + table + " (aggregate, business_key, version, payload, "
                + "status) SELECT 'orders', 'k' || g, 1, '{}', CASE WHEN g % 2 = 0 THEN 'DONE' ELSE 'PENDING' END "
                + "FROM generate_series(1, 100) g");
    }

    private static String indexes(String table) throws SQLException {
        return OutboxWriter.query(Servers.get().source, "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
                + "WHERE tablename = ?", table);
    }

    @Test
    void anOutboxFromThePreviousReleaseIsUpgradedInPlaceWhenCreateTableIsOn() throws Exception {
        createV1("status_test_v1");
        OutboxStore store = store("status_test_v1", "orders", Duration.ofMinutes(30));
        assertEquals(List.of(2, 3, 4, 5), store.migrations().missing().stream().map(s -> s.version()).toList(),
                "no version record: V1 is seen in the table, V2 to V5 are not");
        store.createTable();
        assertEquals(List.of(), store.migrations().missing());
        assertEquals("{fillfactor=50}", OutboxWriter.query(Servers.get().source,
                "SELECT CAST(reloptions AS text) FROM pg_class WHERE relname = 'status_test_v1'"));
        assertEquals("status_test_v1_leased,status_test_v1_pkey,status_test_v1_purge,status_test_v1_ready,status_test_v1_waiting",
                indexes("status_test_v1"));
        assertEquals("0,1,2,3,4,5", OutboxWriter.query(Servers.get().source,
                "SELECT string_agg(version, ',' ORDER BY installed_rank) FROM status_test_v1_tributary WHERE success"));
        assertEquals("50/50", OutboxWriter.query(Servers.get().source, "SELECT count(*) FILTER (WHERE status = 'DONE') || '/' "
                + "|| count(*) FILTER (WHERE status = 'PENDING') FROM status_test_v1"), "rows untouched");
        store.createTable();
        assertEquals("6", OutboxWriter.query(Servers.get().source, "SELECT count(*) FROM status_test_v1_tributary"),
                "a second start changes nothing");
        // FILTERED rows are purged through the new index, like DONE rows.
        OutboxWriter.update(Servers.get().source, "UPDATE status_test_v1 SET status = 'FILTERED', status_at = now() - "
                + "interval '2 hours' WHERE status = 'DONE'");
        assertEquals(50, store.purge(OutboxStore.Status.FILTERED, Duration.ofHours(1), 7));
    }

    @Test
    void anOutboxLackingAMigrationFailsStartUpNamingItWhenCreateTableIsOff() throws Exception {
        createV1("status_test_v1off");
        OutboxStore store = store("status_test_v1off", "orders", Duration.ofMinutes(30));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> store.checkColumns("tributary.pipelines.orders.source.table"));
        assertTrue(e.getMessage().startsWith("tributary.pipelines.orders.source.table: table \"status_test_v1off\" lacks "
                + "migration(s) V2 (purge index covering FILTERED rows), V3 (index of rows waiting for their ack), V4 (claim "
                + "index without rows in flight); set tributary.pipelines.orders.source.create-table=true"), e.getMessage());
        assertEquals("status_test_v1off_due,status_test_v1off_finished,status_test_v1off_pkey", indexes("status_test_v1off"),
                "with create-table off nothing is changed");
        assertFalse(e.getMessage().contains("V5"), "a tuning does not fail start-up: " + e.getMessage());
        // The statements the message names bring the table up to date.
        String run = e.getMessage().substring(e.getMessage().indexOf("or run: ") + 8);
        try (Connection c = ds.getConnection(); var st = c.createStatement()) {
            for (String statement : run.split("; ")) {
                st.execute(statement);
            }
        }
        store.checkColumns("tributary.pipelines.orders.source.table");
        assertEquals(List.of(5), store.migrations().missing().stream().map(s -> s.version()).toList(),
                "the tuning is still missing, and start-up went on without it");
        assertEquals(null, OutboxWriter.query(Servers.get().source,
                "SELECT CAST(reloptions AS text) FROM pg_class WHERE relname = 'status_test_v1off'"));
    }

    @Test
    void anOutboxWithAFillfactorOfItsOwnKeepsIt() throws Exception {
        createV1("status_test_ff");
        OutboxWriter.update(Servers.get().source, "ALTER TABLE status_test_ff SET (fillfactor = 70)");
        OutboxStore store = store("status_test_ff", "orders", Duration.ofMinutes(30));
        assertEquals(List.of(2, 3, 4), store.migrations().missing().stream().map(s -> s.version()).toList(),
                "a fillfactor the owner chose counts as V5");
        store.createTable();
        assertEquals("{fillfactor=70}", OutboxWriter.query(Servers.get().source,
                "SELECT CAST(reloptions AS text) FROM pg_class WHERE relname = 'status_test_ff'"));
    }

    @Test
    void anOutboxFromBeforeStatusAtNamesBothMigrations() throws Exception {
        OutboxWriter.update(Servers.get().source, "CREATE TABLE status_test_old (id bigserial PRIMARY KEY, aggregate text, "
                + "business_key text, version bigint, operation text, payload jsonb, created_at timestamptz, status text, "
                + "attempts int, next_attempt_at timestamptz, claimed_by text, claimed_at timestamptz, last_error text)");
        OutboxStore old = store("status_test_old", "orders", Duration.ofMinutes(30));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> old.checkColumns("tributary.pipelines.orders.source.table"));
        assertTrue(e.getMessage().contains("lacks migration(s) V1 (outbox table with status_at), V2"), e.getMessage());
        assertTrue(e.getMessage().contains("ADD COLUMN IF NOT EXISTS status_at"), e.getMessage());
        old.createTable();
        old.checkColumns("tributary.pipelines.orders.source.table");
    }

    /** The plan of a statement, with its binds. */
    private String plan(String statement, Object... binds) throws SQLException {
        return String.join("\n", OutboxWriter.rows(Servers.get().source, "EXPLAIN " + statement, binds));
    }

    @Test
    void maintenanceStatementsReadIndexesNotTheWholeTable() throws Exception {
        OutboxStore orders = store("status_test_plan", "orders", Duration.ofMinutes(30));
        orders.createTable();
        // A big outbox of finished rows with a few in flight: what an hour of DONE retention looks like.
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_plan (aggregate, business_key, version, payload, "
                + "status) SELECT CASE WHEN g % 2 = 0 THEN 'orders' ELSE 'payments' END, 'k' || g, 1, '{}', "
                + "CASE WHEN g <= 20 THEN 'PENDING' WHEN g <= 40 THEN 'ENQUEUED' WHEN g <= 50 THEN 'DEAD' ELSE 'DONE' END "
                + "FROM generate_series(1, 100000) g");
        OutboxWriter.update(Servers.get().source, "ANALYZE status_test_plan");
        OutboxSql scoped = new OutboxSql(OutboxTable.of("status_test_plan", TributaryConfig.Layout.TRIBUTARY, DEFAULTS), true);
        OutboxSql all = new OutboxSql(OutboxTable.of("status_test_plan", TributaryConfig.Layout.TRIBUTARY, DEFAULTS), false);
        Map<String, String> plans = new java.util.LinkedHashMap<>();
        plans.put("backlog", plan(scoped.backlog(), "orders", 100_000, "orders", 100_000, "orders", 100_000, "orders",
                100_000));
        plans.put("backlog of all aggregates", plan(all.backlog(), 100_000, 100_000, 100_000, 100_000));
        plans.put("re-drive", plan(scoped.requeueUnpublished(), "orders", 60.0));
        plans.put("re-drive parked", plan(scoped.requeueParked(), "orders", 60.0));
        plans.put("bury", plan(scoped.buryExhausted(), "orders", 20));
        plans.put("reclaim expired leases", plan(scoped.reclaimExpired(), "orders", 30.0));
        plans.put("purge", plan(scoped.purge("DONE"), "orders", 3600.0, 5000, "orders", 3600.0));
        plans.put("claim", plan(scoped.claim(), "node", "orders", 20, 0L, 1000, 8_000_000L));
        plans.put("claim of owned key slices", plan(scoped.claimOwned(), "node", "orders", 20, 0L, 16, 12_345L, 1,
                new int[] { 0, 1, 2 }, 16, 2, 0, 1000, 8_000_000L));
        plans.put("key slices in flight", plan(scoped.slicesInFlight(), 16, "orders", 16, new int[] { 0, 1 }, 16,
                "orders", 16, new int[] { 0, 1 }));
        plans.put("claims of a previous process", plan(scoped.releaseStale(), "orders", "node",
                new java.sql.Timestamp(System.currentTimeMillis()), 16, new int[] { 0, 1 }));
        plans.forEach((name, plan) -> assertFalse(plan.contains("Seq Scan on status_test_plan"), name + ":\n" + plan));
        OutboxStore.Backlog backlog = orders.backlog(100_000);
        assertEquals(Map.of(OutboxStore.Status.PENDING, 10L, OutboxStore.Status.ENQUEUED, 10L, OutboxStore.Status.DEAD, 5L),
                backlog.counts(), "DONE rows are not counted");
    }

    @Test
    void aBacklogReadingReadsAtMostItsLimitPerGroupAndFindsTheOldestRow() throws Exception {
        OutboxStore orders = store("status_test_limit", "orders", Duration.ofMinutes(30));
        orders.createTable();
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_limit (aggregate, business_key, version, payload, "
                + "created_at, status) SELECT 'orders', 'k' || g, 1, '{}', timestamptz '2026-01-01 00:00:00+00' + g * "
                + "interval '1 second', CASE WHEN g <= 30 THEN 'PENDING' WHEN g <= 33 THEN 'FAILED' ELSE 'ENQUEUED' END "
                + "FROM generate_series(1, 40) g");
        assertEquals(Map.of(OutboxStore.Status.PENDING, 30L, OutboxStore.Status.FAILED, 3L, OutboxStore.Status.ENQUEUED,
                7L), orders.backlog(100).counts());
        OutboxStore.Backlog limited = orders.backlog(10);
        assertEquals(Map.of(OutboxStore.Status.PENDING, 10L, OutboxStore.Status.ENQUEUED, 7L), limited.counts(),
                "PENDING and FAILED are one group of at most 10 rows, read in the claim index's order");
        assertEquals(Instant.parse("2026-01-01T00:00:01Z"), limited.oldestUnfinished(), "the oldest row is among them");
    }

    @Test
    void fullClaimsContinueAfterTheLastAndARowLeftBelowComesBackAfterAPartialOne() throws Exception {
        OutboxStore orders = store("status_test_floor", "orders", Duration.ofMinutes(30));
        orders.createTable();
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_floor (aggregate, business_key, version, "
                + "payload) SELECT 'orders', 'k' || g, 1, '{}' FROM generate_series(1, 30) g");
        List<OutboxRecord> first = orders.claim(10, Duration.ofMinutes(1), 20);
        assertEquals(10, first.size());
        // A row of the first batch handed back (Kafka and the spool could not take it) lies below the floor now.
        assertEquals(1, orders.release(new long[] { first.get(0).id() }));
        List<OutboxRecord> second = orders.claim(10, Duration.ofMinutes(1), 20);
        assertEquals(first.get(9).id() + 1, second.get(0).id(), "a full claim continues after the last one");
        assertEquals(10, orders.claim(10, Duration.ofMinutes(1), 20).size());
        assertEquals(List.of(), orders.claim(10, Duration.ofMinutes(1), 20), "nothing above the floor");
        List<OutboxRecord> again = orders.claim(10, Duration.ofMinutes(1), 20);
        assertEquals(List.of(first.get(0).id()), again.stream().map(OutboxRecord::id).toList(),
                "after a partial claim the next starts from the first due row");
    }

    @Test
    void slicedClaimsGiveEachWorkerItsOwnKeys() throws Exception {
        OutboxStore orders = store("status_test_slices", "orders", Duration.ofMinutes(30));
        orders.createTable();
        OutboxWriter.update(Servers.get().source, "INSERT INTO status_test_slices (aggregate, business_key, version, "
                + "payload) SELECT 'orders', 'k' || (g % 50), g, '{}' FROM generate_series(1, 200) g");
        List<OutboxRecord> first = orders.claim(0, 2, 1000, Long.MAX_VALUE, Duration.ofMinutes(1), 20);
        List<OutboxRecord> second = orders.claim(1, 2, 1000, Long.MAX_VALUE, Duration.ofMinutes(1), 20);
        assertEquals(200, first.size() + second.size(), "the slices together are every row");
        java.util.Set<String> firstKeys = first.stream().map(OutboxRecord::key).collect(java.util.stream.Collectors.toSet());
        java.util.Set<String> secondKeys = second.stream().map(OutboxRecord::key).collect(java.util.stream.Collectors.toSet());
        assertFalse(firstKeys.isEmpty() || secondKeys.isEmpty(), "both slices hold keys");
        assertTrue(java.util.Collections.disjoint(firstKeys, secondKeys), "no key is in both slices");
        assertEquals(List.of(), orders.claim(1, 2, 1000, Long.MAX_VALUE, Duration.ofMinutes(1), 20));
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
