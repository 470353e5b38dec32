package tributary.capture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import tributary.testing.MariaDb;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * A MariaDB table (composite primary key) captured from the binary log into the PostgreSQL primary: 20,000 existing
 * rows copied while the business inserts, updates and deletes, Tributary killed (kill -9) in the middle of the
 * snapshot and again in the middle of the stream; the target ends equal to the source by key and content, deleted
 * keys as tombstones. And a PostgreSQL table into a MariaDB target.
 */
class MariaDbCaptureIT {

    private static final int ROWS = 20_000;

    @Test
    void aMariaDbTableIsCopiedAndStreamedIntoPostgres() throws Exception {
        Servers s = Servers.get();
        Path dir = Path.of("target", "capture-mariadb").toAbsolutePath();
        try (MariaDb db = new MariaDb(Files.createTempDirectory("tributary-mariadb")).start()) {
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE items (id bigint NOT NULL, region varchar(8) NOT NULL, name varchar(100) NOT NULL, "
                        + "price decimal(10,2), updated datetime(6), PRIMARY KEY (id, region))");
                st.execute("INSERT INTO items SELECT seq, IF(seq % 2 = 0, 'EU', 'US'), concat('item-', seq), seq / 100, "
                        + "timestamp '2026-12-01 00:00:00' + interval seq second FROM seq_1_to_" + ROWS);
            }
            Map<String, String> c = TributaryProcess.baseConfig(s);
            c.put("tributary.datasources.maria.url", db.jdbcUrl());
            c.put("tributary.datasources.maria.username", MariaDb.USER);
            c.put("tributary.datasources.maria.password", MariaDb.PASSWORD);
            String p = "tributary.pipelines.items.";
            c.put(p + "source.datasource", "maria");
            c.put(p + "source.mode", "table");
            c.put(p + "source.table", "shop.items");
            c.put(p + "source.capture.heartbeat", "1s");
            c.put(p + "target.datasource", "primary");
            c.put(p + "target.table", "items_copy");
            c.put(p + "target.create-table", "true");
            c.put(p + "target.columns.name.type", "text");
            c.put(p + "target.columns.price.type", "numeric(10,2)");
            c.put(p + "target.columns.updated.type", "timestamp");
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong changes = new AtomicLong();
            // Small chunks, so the snapshot is still running when Tributary is killed.
            c.put(p + "source.capture.chunk-size", "512");
            Thread workload = new Thread(() -> business(db::connect, "UPDATE items SET price = price + 1, updated = now(6), "
                    + "name = ? WHERE id = ?", "DELETE FROM items WHERE id = ?", "INSERT INTO items VALUES (?, 'EU', ?, 2.5, "
                    + "now(6))", running, changes), "mariadb-workload");
            try (TributaryProcess first = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("first.log"),
                    c, Ports.free())) {
                first.start();
                workload.start();
                await().atMost(Duration.ofMinutes(2)).until(() -> target(s).size() > ROWS / 10);
                first.kill();
                assertTrue(target(s).size() < ROWS, "killed mid-snapshot");
            }
            try (TributaryProcess second = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("second.log"),
                    c, Ports.free())) {
                second.start();
                // The snapshot resumes and completes; then kill -9 in the middle of the stream.
                await().atMost(Duration.ofMinutes(3)).until(() -> second.health("ready").body()
                        .contains("snapshot complete"));
                Thread.sleep(2_000);
                second.kill();
            }
            try (TributaryProcess process = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("app.log"),
                    c, Ports.free())) {
                process.start();
                Thread.sleep(5_000);
                running.set(false);
                workload.join();
                await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertEquals(source(db), target(s)));
                // The snapshot finished before the kill: this process only streams.
                String ready = process.health("ready").body().replace(" ", "");
                assertTrue(ready.contains("\"items.snapshot\":\"streaming\""), ready);
            }
            assertTrue(changes.get() > 500, "the business wrote " + changes.get() + " changes meanwhile");
            // No change applied twice, kill included: at most one target write per source write.
            Thread.sleep(1_500); // statistics reach the collector within about half a second
            long targetWrites = Long.parseLong(tributary.testing.OutboxWriter.query(s.primary, "SELECT n_tup_ins + "
                    + "n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = 'items_copy'"));
            assertTrue(targetWrites <= ROWS + changes.get(), "target writes " + targetWrites + " <= source writes "
                    + (ROWS + changes.get()));
            // Deleted keys are tombstones in the target, and only keys the source no longer has.
            Map<String, String> live = source(db);
            int tombstones = 0;
            try (Connection t = Servers.connect(s.primary); Statement st = t.createStatement();
                    ResultSet rs = st.executeQuery("SELECT business_key FROM items_copy WHERE deleted")) {
                while (rs.next()) {
                    tombstones++;
                    assertTrue(!live.containsKey(rs.getString(1)), rs.getString(1) + " is live in the source");
                }
            }
            assertTrue(tombstones > 0, "deletes arrived as tombstones");
        }
    }

    /**
     * The other way round: a PostgreSQL table captured from its WAL into a MariaDB target (typed columns, version
     * guard, tombstones), Tributary killed (kill -9) in the middle of the stream.
     */
    @Test
    void aPostgresTableIsCopiedAndStreamedIntoMariaDb() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.update(s.source, "CREATE TABLE ledger (id bigint PRIMARY KEY, owner text NOT NULL, "
                + "amount numeric(12,2), booked_at timestamptz, active boolean)");
        OutboxWriter.update(s.source, "INSERT INTO ledger SELECT g, 'owner-' || g, g / 100.0, timestamptz "
                + "'2026-12-01 00:00:00+00' + g * interval '1 millisecond', g % 2 = 0 FROM generate_series(1, " + ROWS + ") g");
        OutboxWriter.update(s.source, "ANALYZE ledger");
        Path dir = Path.of("target", "capture-mariadb").toAbsolutePath();
        try (MariaDb db = new MariaDb(Files.createTempDirectory("tributary-mariadb-target"), false).start()) {
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                st.execute("SET GLOBAL userstat = 1"); // per-table row counts, to count the target's writes
            }
            Map<String, String> c = TributaryProcess.baseConfig(s);
            c.put("tributary.datasources.maria.url", db.jdbcUrl());
            c.put("tributary.datasources.maria.username", MariaDb.USER);
            c.put("tributary.datasources.maria.password", MariaDb.PASSWORD);
            String p = "tributary.pipelines.ledger.";
            c.put(p + "source.datasource", "source");
            c.put(p + "source.mode", "table");
            c.put(p + "source.table", "public.ledger");
            c.put(p + "source.capture.heartbeat", "1s");
            c.put(p + "target.datasource", "maria");
            c.put(p + "target.table", "ledger_copy");
            c.put(p + "target.create-table", "true");
            c.put(p + "target.columns.owner.type", "text");
            c.put(p + "target.columns.amount.type", "numeric(12,2)");
            c.put(p + "target.columns.booked_at.type", "timestamptz");
            c.put(p + "target.columns.active.type", "boolean");
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong changes = new AtomicLong();
            Thread workload = new Thread(() -> business(() -> Servers.connect(s.source), "UPDATE ledger SET owner = ?, "
                    + "amount = amount + 1, booked_at = now(), active = NOT active WHERE id = ?", "DELETE FROM ledger WHERE "
                    + "id = ?", "INSERT INTO ledger VALUES (?, ?, 2.5, now(), true)", running, changes), "postgres-workload");
            try (TributaryProcess first = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("pg-first.log"),
                    c, Ports.free())) {
                first.start();
                await().atMost(Duration.ofMinutes(1)).until(() -> "1".equals(OutboxWriter.query(s.source,
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_ledger'")));
                workload.start();
                await().atMost(Duration.ofMinutes(3)).until(() -> first.health("ready").body()
                        .contains("snapshot complete"));
                Thread.sleep(2_000);
                first.kill(); // in the middle of the stream
            }
            try (TributaryProcess process = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("pg-app.log"),
                    c, Ports.free())) {
                process.start();
                Thread.sleep(5_000);
                running.set(false);
                workload.join();
                await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertEquals(ledger(s), ledgerCopy(db)));
            }
            assertTrue(changes.get() > 500, "the business wrote " + changes.get() + " changes meanwhile");
            // No change applied twice: at most one target row write per source row write.
            long sourceWrites = ROWS + changes.get();
            long targetWrites = Long.parseLong(mariaQuery(db, "SELECT ROWS_CHANGED FROM information_schema"
                    + ".TABLE_STATISTICS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'ledger_copy'"));
            assertTrue(targetWrites > 0 && targetWrites <= sourceWrites, "target writes " + targetWrites
                    + " <= source writes " + sourceWrites);
            Map<String, String> live = ledger(s);
            long tombstones = Long.parseLong(mariaQuery(db, "SELECT count(*) FROM ledger_copy WHERE deleted"));
            assertTrue(tombstones > 0, "deletes arrived as tombstones");
            assertEquals("0", mariaQuery(db, "SELECT count(*) FROM ledger_copy WHERE deleted AND owner IS NOT NULL"));
            assertEquals(String.valueOf(live.size()), mariaQuery(db, "SELECT count(*) FROM ledger_copy_live"));
        } finally {
            OutboxWriter.query(s.source, "SELECT pg_drop_replication_slot(slot_name)::text FROM pg_replication_slots "
                    + "WHERE slot_name = 'tributary_ledger'");
        }
    }

    /** Key → content of the PostgreSQL source, times in UTC. */
    private static Map<String, String> ledger(Servers s) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        try (Connection c = Servers.connect(s.source); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, owner, amount, booked_at, active FROM ledger")) {
            while (rs.next()) {
                rows.put(rs.getString(1), content(rs.getString(2), rs.getBigDecimal(3), rs.getObject(4,
                        java.time.OffsetDateTime.class).withOffsetSameInstant(java.time.ZoneOffset.UTC).toLocalDateTime())
                        + "|" + rs.getBoolean(5));
            }
        }
        return rows;
    }

    /** Key → content of the MariaDB target's live rows (its datetime(6) columns hold UTC). */
    private static Map<String, String> ledgerCopy(MariaDb db) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT business_key, owner, amount, booked_at, active FROM ledger_copy "
                        + "WHERE NOT deleted")) {
            while (rs.next()) {
                rows.put(rs.getString(1), content(rs.getString(2), rs.getBigDecimal(3),
                        rs.getObject(4, LocalDateTime.class)) + "|" + rs.getBoolean(5));
            }
        } catch (java.sql.SQLSyntaxErrorException notYet) {
            return Map.of(); // the target table is created with the first write
        }
        return rows;
    }

    private static String mariaQuery(MariaDb db, String sql) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void aServerWithoutTheBinaryLogFailsStartUpSayingWhatToChange() throws Exception {
        Servers s = Servers.get();
        try (MariaDb db = new MariaDb(Files.createTempDirectory("tributary-mariadb-nobinlog"), false).start()) {
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE plain (id bigint PRIMARY KEY, v text)");
            }
            Map<String, String> c = TributaryProcess.baseConfig(s);
            c.put("tributary.datasources.maria.url", db.jdbcUrl());
            c.put("tributary.datasources.maria.username", MariaDb.USER);
            c.put("tributary.datasources.maria.password", MariaDb.PASSWORD);
            String p = "tributary.pipelines.plain.";
            c.put(p + "source.datasource", "maria");
            c.put(p + "source.mode", "table");
            c.put(p + "source.table", "shop.plain");
            c.put(p + "target.datasource", "primary");
            c.put(p + "target.table", "plain_copy");
            Path log = Path.of("target", "capture-mariadb", "no-binlog.log").toAbsolutePath();
            Files.deleteIfExists(log);
            try (TributaryProcess process = new TributaryProcess(TributaryProcess.defaultJar(), log, c, Ports.free())) {
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, process::start);
            }
            String text = Files.readString(log);
            assertTrue(text.contains("tributary.pipelines.plain.source.mode=table needs the binary log in row format"),
                    text);
            assertTrue(text.contains("log_bin=OFF") && text.contains("set log_bin, binlog_format=ROW"), text);
            assertTrue(!text.contains(MariaDb.PASSWORD), "the log names the password");
        }
    }

    /** The source database's business: small transactions of five renames, one delete and one insert. */
    private static void business(java.util.concurrent.Callable<Connection> connect, String update, String delete,
            String insert, AtomicBoolean running, AtomicLong changes) {
        Random random = new Random(11);
        long next = 1_000_000;
        try (Connection c = connect.call()) {
            c.setAutoCommit(false);
            try (PreparedStatement renames = c.prepareStatement(update); PreparedStatement deletes = c.prepareStatement(delete);
                    PreparedStatement inserts = c.prepareStatement(insert)) {
                while (running.get()) {
                    for (int i = 0; i < 5; i++) {
                        renames.setString(1, "renamed " + random.nextInt(1000));
                        renames.setLong(2, 1 + random.nextInt(ROWS));
                        changes.addAndGet(renames.executeUpdate());
                    }
                    deletes.setLong(1, 1 + random.nextInt(ROWS));
                    changes.addAndGet(deletes.executeUpdate());
                    inserts.setLong(1, next);
                    inserts.setString(2, "new-" + next++);
                    changes.addAndGet(inserts.executeUpdate());
                    c.commit();
                    Thread.sleep(10);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Key (as table mode spells a composite key) → content, from MariaDB. */
    private static Map<String, String> source(MariaDb db) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT id, region, name, price, updated FROM items")) {
            while (rs.next()) {
                rows.put("[" + rs.getLong(1) + ",\"" + rs.getString(2) + "\"]", content(rs.getString(3),
                        rs.getBigDecimal(4), rs.getObject(5, LocalDateTime.class)));
            }
        }
        return rows;
    }

    private static Map<String, String> target(Servers s) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        try (Connection c = Servers.connect(s.primary); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT business_key, name, price, updated FROM items_copy WHERE NOT deleted")) {
            while (rs.next()) {
                rows.put(rs.getString(1), content(rs.getString(2), rs.getBigDecimal(3),
                        rs.getObject(4, LocalDateTime.class)));
            }
        } catch (org.postgresql.util.PSQLException notYet) {
            return Map.of(); // the target table is created with the first write
        }
        return rows;
    }

    private static String content(String name, BigDecimal price, LocalDateTime updated) {
        return name + "|" + (price == null ? "-" : price.toPlainString()) + "|" + updated;
    }
}
