package tributary.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import tributary.testing.Changes;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Ports;
import tributary.testing.Postgres;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Chaos run: N rows stream through Tributary while a seeded random schedule kills and restarts Kafka, the primary,
 * the standby and Tributary itself. When everything is healed it compares the primary with the source and prints
 * {@code lost= duplicated= stale=}, the throughput, and the longest time any row took to reach the primary.
 */
public final class Chaos {

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("chaos.rows", 200_000);
        long seed = Long.getLong("chaos.seed", 42);
        Random random = new Random(seed);
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);

        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.node-id", "chaos-1");
        String p = "tributary.pipelines.chaos.";
        config.put(p + "source.datasource", "source");
        config.put(p + "source.aggregate", "chaos");
        config.put(p + "target.datasource", "primary");
        config.put(p + "target.standby", "standby");
        config.put(p + "target.table", "chaos_orders");
        config.put(p + "lease", "5s");
        config.put(p + "retention.done", "0");
        Path log = Path.of("target", "chaos", "tributary.log").toAbsolutePath();
        TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, Ports.free()).start();

        List<Change> changes = Changes.generate("chaos-", Math.max(1, rows * 2 / 5), random).subList(0, rows);
        long start = System.nanoTime();
        Load load = Load.start(writer, "chaos", changes, 200, 40);
        int faults = 0;
        while (!isDone(load)) {
            Thread.sleep(2_000 + random.nextInt(6_000));
            if (isDone(load)) {
                break;
            }
            String victim = List.of("kafka", "primary", "standby", "tributary").get(random.nextInt(4));
            long downMs = 2_000 + random.nextInt(10_000);
            System.out.printf("%5.1fs  %-9s down for %5.1fs  (%d of %d rows written)%n", (System.nanoTime() - start) / 1e9,
                    victim, downMs / 1e3, load.written(), rows);
            faults++;
            switch (victim) {
                case "kafka" -> {
                    s.kafka.kill();
                    Thread.sleep(downMs);
                    s.kafka.start();
                }
                case "primary" -> outage(s.primary, downMs);
                case "standby" -> outage(s.standby, downMs);
                default -> {
                    tributary.kill();
                    Thread.sleep(downMs);
                    tributary.start();
                }
            }
        }
        load.await();
        System.out.printf("all %d rows written after %.1fs and %d faults; waiting for the pipeline to converge%n", rows,
                (System.nanoTime() - start) / 1e9, faults);
        String expected = writer.expected("chaos-");
        long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
        while (!expected.equals(OutboxWriter.actual(s.primary, "chaos_orders", "chaos-")) && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        report(s, rows, seconds);
        tributary.stop();
        System.out.println("Tributary log: " + log);
        System.exit(0);
    }

    private static boolean isDone(Load load) {
        return load.isDone();
    }

    private static void outage(Postgres pg, long ms) throws InterruptedException {
        pg.stop();
        Thread.sleep(ms);
        pg.start();
    }

    /** Compares the newest source state per key with the primary, key by key. */
    private static void report(Servers s, int rows, double seconds) throws Exception {
        Map<String, String> expected = new HashMap<>();
        try (Connection c = Servers.connect(s.source); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT DISTINCT ON (business_key) business_key, version || ':' || deleted "
                        + "|| ':' || CASE WHEN deleted THEN '' ELSE md5(payload::text) END FROM test_expected "
                        + "WHERE business_key LIKE 'chaos-%' ORDER BY business_key, version DESC")) {
            while (rs.next()) {
                expected.put(rs.getString(1), rs.getString(2));
            }
        }
        long lost = 0;
        long stale = 0;
        long duplicated = 0;
        long seen = 0;
        String longest;
        try (Connection c = Servers.connect(s.primary); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT business_key, version || ':' || deleted || ':' || CASE WHEN deleted "
                    + "THEN '' ELSE md5(payload::text) END FROM chaos_orders")) {
                Map<String, Integer> copies = new HashMap<>();
                while (rs.next()) {
                    seen++;
                    String key = rs.getString(1);
                    if (copies.merge(key, 1, Integer::sum) > 1 || !expected.containsKey(key)) {
                        duplicated++;
                    } else if (!expected.get(key).equals(rs.getString(2))) {
                        stale++;
                    }
                }
                lost = expected.keySet().stream().filter(k -> !copies.containsKey(k)).count();
            }
            try (ResultSet rs = st.executeQuery("SELECT round(extract(epoch FROM max(synced_at - source_created_at)), 1) "
                    + "FROM chaos_orders")) {
                rs.next();
                longest = rs.getString(1);
            }
        }
        String outbox = OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'chaos'");
        System.out.printf("lost=%d duplicated=%d stale=%d%n", lost, duplicated, stale);
        System.out.printf("rows=%d keys=%d primary rows=%d outbox rows left=%s throughput=%.0f rows/s longest to primary=%ss%n",
                rows, expected.size(), seen, outbox, rows / seconds, longest);
    }
}
