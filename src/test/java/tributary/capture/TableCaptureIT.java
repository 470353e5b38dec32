package tributary.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Table mode end to end with the packaged application: an existing table of 100,000 rows is copied (snapshot) while
 * the business keeps inserting, updating and deleting, Tributary is killed (kill -9) in the middle of the snapshot and
 * again in the middle of the stream, one table is snapshotted again while changes stream, and the target ends equal
 * to the source by key and content, deletes as tombstones, no change applied twice.
 */
class TableCaptureIT {

    private static final int ROWS = 100_000;
    private static final String SLOT = "tributary_accounts";
    private static final String PASSWORD = "capture-it-password-" + System.nanoTime();

    /** A row's content, version-independent, as both sides spell it. */
    private static final String CONTENT = "count(*) || '/' || md5(string_agg(id::text || '|' || owner || '|' || "
            + "coalesce(balance::text, '-') || '|' || coalesce(to_char(updated_at AT TIME ZONE 'UTC', "
            + "'YYYY-MM-DD HH24:MI:SS.US'), '-') || '|' || coalesce(note, '-'), ',' ORDER BY id))";

    private static Map<String, String> config(Servers s) {
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.node-id", "capture-it");
        // The test servers trust loopback, so the password is never asked for; it must never be logged either.
        c.put("tributary.datasources.source.password", PASSWORD);
        String p = "tributary.pipelines.accounts.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.mode", "table");
        c.put(p + "source.table", "public.accounts");
        c.put(p + "source.capture.heartbeat", "1s");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "accounts_copy");
        c.put(p + "target.create-table", "true");
        c.put(p + "target.columns.owner.type", "text");
        c.put(p + "target.columns.balance.type", "numeric(12,2)");
        c.put(p + "target.columns.updated_at.type", "timestamptz");
        c.put(p + "target.columns.note.type", "text");
        c.put(p + "batch-size", "2000");
        return c;
    }

    private static String source(Servers s) throws Exception {
        return OutboxWriter.query(s.source, "SELECT " + CONTENT + " FROM accounts");
    }

    private static String target(Servers s) throws Exception {
        return OutboxWriter.query(s.primary, "SELECT " + CONTENT.replace("id::text", "business_key")
                .replace("ORDER BY id", "ORDER BY business_key::bigint") + " FROM accounts_copy WHERE NOT deleted");
    }

    private static long targetRows(Servers s) throws Exception {
        String n = OutboxWriter.query(s.primary, "SELECT count(*) FROM accounts_copy");
        return n == null ? 0 : Long.parseLong(n);
    }

    /** Rows written to a table (inserts, updates, deletes) by the statistics collector. */
    private static long writes(tributary.testing.Postgres pg, String table) throws Exception {
        return Long.parseLong(OutboxWriter.query(pg, "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                + "FROM pg_stat_user_tables WHERE relname = ?", table));
    }

    @Test
    void snapshotAndStreamSurviveKillsAndAReSnapshot() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.update(s.source, "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, "
                + "balance numeric(12,2), updated_at timestamptz, note text)");
        OutboxWriter.update(s.source, "INSERT INTO accounts SELECT g, 'owner-' || g, (g % 100000) / 100.0, "
                + "timestamptz '2026-12-01 00:00:00+00' + g * interval '1 millisecond', CASE WHEN g % 3 = 0 THEN NULL "
                + "ELSE 'note ' || g END FROM generate_series(1, " + ROWS + ") g");
        OutboxWriter.update(s.source, "ANALYZE accounts");
        long initialWrites = writes(s.source, "accounts");

        Set<Long> deleted = ConcurrentHashMap.newKeySet();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong changes = new AtomicLong();
        Thread workload = new Thread(() -> business(s, running, deleted, changes), "business-workload");
        Path dir = Path.of("target", "capture").toAbsolutePath();
        Map<String, String> config = config(s);
        try (TributaryProcess first = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("a.log"), config,
                Ports.free())) {
            first.start();
            // The business writes from the moment the slot exists: every change from then on is captured (a key
            // deleted before it is simply not in the snapshot).
            await().atMost(Duration.ofMinutes(1)).until(() -> "1".equals(OutboxWriter.query(s.source,
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?", SLOT)));
            workload.start();
            // kill -9 in the middle of the snapshot
            await().atMost(Duration.ofMinutes(3)).until(() -> targetRows(s) > ROWS / 5);
            first.kill();
            long atKill = targetRows(s);
            assertTrue(atKill < ROWS, "killed mid-snapshot, " + atKill + " rows copied");
        }
        try (TributaryProcess second = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("b.log"), config,
                Ports.free())) {
            second.start();
            // The snapshot resumes and completes while the business writes; then kill -9 in the middle of the stream.
            await().atMost(Duration.ofMinutes(5)).until(() -> second.health("ready").body()
                    .contains("snapshot complete"));
            Thread.sleep(2_000);
            second.kill();
        }
        try (TributaryProcess third = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("c.log"), config,
                Ports.free())) {
            third.start();
            Thread.sleep(3_000);
            running.set(false);
            workload.join();
            await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertEquals(source(s), target(s)));
            assertTrue(changes.get() > 1_000, "the business wrote " + changes.get() + " changes meanwhile");
            // Deletes arrive as tombstones, one per deleted key.
            assertEquals(String.valueOf(deleted.size()),
                    OutboxWriter.query(s.primary, "SELECT count(*) FROM accounts_copy WHERE deleted"));
            // No change applied twice: the target wrote at most once per source write (snapshot rows included).
            Thread.sleep(1_500); // statistics reach the collector within about half a second
            long sourceWrites = writes(s.source, "accounts");
            long targetWrites = writes(s.primary, "accounts_copy");
            assertTrue(targetWrites <= sourceWrites, "target writes " + targetWrites + " <= source writes "
                    + sourceWrites + " (" + initialWrites + " initial rows)");

            // Re-snapshot while changes stream: rows lost from the target come back, the stream goes on.
            OutboxWriter.update(s.primary, "DELETE FROM accounts_copy WHERE business_key::bigint % 97 = 0 AND NOT deleted");
            running.set(true);
            Thread again = new Thread(() -> business(s, running, deleted, changes), "business-workload-2");
            again.start();
            OutboxWriter.update(s.source, "INSERT INTO public.tributary_signal_accounts (id, type, data) VALUES "
                    + "('re-snapshot-1', 'execute-snapshot', '{\"data-collections\": [\"public.accounts\"], "
                    + "\"type\": \"incremental\"}')");
            Thread.sleep(5_000);
            running.set(false);
            again.join();
            await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertEquals(source(s), target(s)));
            await().atMost(Duration.ofMinutes(2)).until(() -> third.health("ready").body().contains("snapshot complete"));
        }
        for (String log : new String[] { "a.log", "b.log", "c.log" }) {
            String text = Files.readString(dir.resolve(log));
            assertTrue(!text.contains(PASSWORD), log + " names the source's password");
            assertTrue(!text.contains("owner-4242"), log + " shows payload data");
        }
        // The operator's action for a removed pipeline: its slot goes, and the server keeps no WAL for it.
        OutboxWriter.query(s.source, "SELECT pg_drop_replication_slot(?)::text", SLOT);
        OutboxWriter.update(s.source, "DROP PUBLICATION IF EXISTS " + SLOT);
    }

    /** Small business transactions: updates of random rows, deletes, and inserts of new keys. */
    private static void business(Servers s, AtomicBoolean running, Set<Long> deleted, AtomicLong changes) {
        Random random = new Random(deleted.size() + 7);
        long next = 1_000_000 + changes.get();
        try (Connection c = Servers.connect(s.source)) {
            c.setAutoCommit(false);
            try (PreparedStatement update = c.prepareStatement("UPDATE accounts SET balance = balance + 1, "
                    + "updated_at = clock_timestamp(), note = ? WHERE id = ?");
                    PreparedStatement delete = c.prepareStatement("DELETE FROM accounts WHERE id = ?");
                    PreparedStatement insert = c.prepareStatement("INSERT INTO accounts VALUES (?, ?, 1.5, "
                            + "clock_timestamp(), NULL)")) {
                while (running.get()) {
                    for (int i = 0; i < 10; i++) {
                        update.setString(1, "changed " + random.nextInt(1000));
                        update.setLong(2, 1 + random.nextInt(ROWS));
                        changes.addAndGet(update.executeUpdate());
                    }
                    long gone = 1 + random.nextInt(ROWS);
                    delete.setLong(1, gone);
                    if (delete.executeUpdate() == 1) {
                        deleted.add(gone);
                        changes.incrementAndGet();
                    }
                    insert.setLong(1, next);
                    insert.setString(2, "owner-" + next++);
                    changes.addAndGet(insert.executeUpdate());
                    c.commit();
                    Thread.sleep(10);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aSourceWithoutLogicalDecodingFailsStartUpSayingWhatToChange() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.update(s.primary, "CREATE TABLE IF NOT EXISTS plain_source (id bigint PRIMARY KEY, v text)");
        Map<String, String> c = TributaryProcess.baseConfig(s);
        String p = "tributary.pipelines.plain.";
        c.put(p + "source.datasource", "primary");
        c.put(p + "source.mode", "table");
        c.put(p + "source.table", "plain_source");
        c.put(p + "target.datasource", "standby");
        c.put(p + "target.table", "plain_copy");
        Path log = Path.of("target", "capture", "no-logical.log").toAbsolutePath();
        Files.deleteIfExists(log);
        try (TributaryProcess process = new TributaryProcess(TributaryProcess.defaultJar(), log, c, Ports.free())) {
            assertThrows(IllegalStateException.class, process::start);
        }
        String text = Files.readString(log);
        assertTrue(text.contains("tributary.pipelines.plain.source.mode=table needs logical decoding"), text);
        assertTrue(text.contains("wal_level=replica") && text.contains("set wal_level = logical"), text);
    }

    @Test
    void anIdleTableWithHeartbeatsKeepsLittleWal() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.update(s.source, "CREATE TABLE IF NOT EXISTS quiet (id bigint PRIMARY KEY, v text)");
        OutboxWriter.update(s.source, "CREATE TABLE IF NOT EXISTS busy (id bigserial PRIMARY KEY, v text)");
        Map<String, String> c = TributaryProcess.baseConfig(s);
        String p = "tributary.pipelines.quiet.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.mode", "table");
        c.put(p + "source.table", "quiet");
        c.put(p + "source.capture.heartbeat", "1s");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "quiet_copy");
        c.put(p + "target.create-table", "true");
        Path dir = Path.of("target", "capture").toAbsolutePath();
        try (TributaryProcess process = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("quiet.log"),
                c, Ports.free())) {
            process.start();
            await().atMost(Duration.ofMinutes(1)).until(() -> OutboxWriter.query(s.source,
                    "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_quiet'").equals("1"));
            // Other tables of the database write about 40 MB of WAL; the captured table stays idle.
            long generated = 0;
            String start = OutboxWriter.query(s.source, "SELECT pg_current_wal_lsn()::text");
            for (int i = 0; i < 20; i++) {
                OutboxWriter.update(s.source, "INSERT INTO busy (v) SELECT repeat('x', 200) FROM generate_series(1, 10000)");
                Thread.sleep(500);
            }
            generated = Long.parseLong(OutboxWriter.query(s.source,
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint", start));
            assertTrue(generated > 20_000_000L, "WAL written meanwhile: " + generated);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                long retained = Long.parseLong(OutboxWriter.query(s.source, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                        + "confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'tributary_quiet'"));
                assertTrue(retained < 2_000_000L, "WAL retained for the idle slot: " + retained + " of " + 0 + "");
            });
            assertTrue(process.health("ready").body().contains("quiet.slot-lag-bytes"));
        }
        OutboxWriter.query(s.source, "SELECT pg_drop_replication_slot('tributary_quiet')::text");
        OutboxWriter.update(s.source, "DROP PUBLICATION IF EXISTS tributary_quiet");
    }
}
