package tributary.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import tributary.testing.Changes;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Chaos run: N rows stream through Tributary while a seeded random schedule kills and restarts Kafka, the primary,
 * the standby and Tributary itself. When everything is healed it compares the primary with the source key by key.
 * {@link #main} prints the result and exits 1 when anything was lost, duplicated or stale, or the primary did not
 * converge in time; {@code ChaosIT} runs a short schedule in the build.
 */
public final class Chaos {

    private static final String UNDEFINED_TABLE = "42P01";

    /**
     * One run. {@code name} is the pipeline, aggregate and key prefix and names the table ({@code <name>_orders}) and
     * topic ({@code tributary.<name>}), so runs in one JVM do not share state. Gaps and downtimes are drawn uniformly
     * from their ranges; the load commits {@code loadBatch} rows per transaction with {@code loadPauseMs} between.
     */
    public record Options(String name, int rows, long seed, boolean everyKindFirst, Duration gapMin, Duration gapMax,
            Duration downMin, Duration downMax, int loadBatch, long loadPauseMs, Duration convergeWithin) {

        /** bench/chaos.sh: long gaps and outages, a fast load, a generous deadline. */
        public static Options bench(int rows, long seed, boolean everyKindFirst) {
            return new Options("chaos", rows, seed, everyKindFirst, Duration.ofSeconds(2), Duration.ofSeconds(8),
                    Duration.ofSeconds(2), Duration.ofSeconds(12), 200, 40, Duration.ofMinutes(15));
        }

        public Path log() {
            return Path.of("target", name, "tributary.log").toAbsolutePath();
        }

        String table() {
            return name + "_orders";
        }

        String keyPrefix() {
            return name + "-";
        }
    }

    private Chaos() {
    }

    public static void main(String[] args) {
        Options options = Options.bench(Integer.getInteger("chaos.rows", 200_000), Long.getLong("chaos.seed", 42),
                Boolean.parseBoolean(System.getProperty("chaos.every-kind", "true")));
        int exit = 1;
        try {
            ChaosResult result = run(Servers.get(), options);
            System.out.println(result.summary());
            exit = result.clean() ? 0 : 1;
        } catch (Exception e) {
            System.out.println("chaos run failed: " + e);
            e.printStackTrace(System.out);
        }
        System.out.println("Tributary log: " + options.log());
        System.exit(exit);
    }

    /** Streams the rows, injects faults until the load is written (and every kind happened, if asked), compares. */
    public static ChaosResult run(Servers s, Options o) throws Exception {
        Random random = new Random(o.seed());
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), o.log(), config(s, o),
                Ports.free())) {
            tributary.start();
            List<Change> changes = Changes.generate(o.keyPrefix(), Math.max(1, o.rows() * 2 / 5), random);
            changes = changes.subList(0, Math.min(o.rows(), changes.size()));
            long start = System.nanoTime();
            Load load = Load.start(writer, o.name(), changes, o.loadBatch(), o.loadPauseMs());
            Fault.Schedule schedule = new Fault.Schedule(random, o.everyKindFirst());
            Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
            for (Fault f : Fault.values()) {
                faults.put(f, 0);
            }
            while (!load.isDone() || !schedule.covered()) {
                Thread.sleep(between(random, o.gapMin(), o.gapMax()));
                if (load.isDone() && schedule.covered()) {
                    break;
                }
                Fault fault = schedule.next();
                long downMs = between(random, o.downMin(), o.downMax());
                System.out.printf("%5.1fs  %-9s down for %5.1fs  (%d of %d rows written)%n", secondsSince(start),
                        fault.label(), downMs / 1e3, load.written(), changes.size());
                inject(s, tributary, fault, downMs);
                faults.merge(fault, 1, Integer::sum);
            }
            load.await();
            System.out.printf("all %d rows written after %.1fs and %d faults; waiting for the pipeline to converge%n",
                    changes.size(), secondsSince(start), faults.values().stream().mapToInt(Integer::intValue).sum());
            boolean converged = awaitConverged(s, writer, o);
            return compare(s, o, changes.size(), faults, secondsSince(start), converged);
        }
    }

    private static Map<String, String> config(Servers s, Options o) {
        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.node-id", o.name() + "-1");
        String p = "tributary.pipelines." + o.name() + ".";
        config.put(p + "source.datasource", "source");
        config.put(p + "source.aggregate", o.name());
        config.put(p + "target.datasource", "primary");
        config.put(p + "target.standby", "standby");
        config.put(p + "target.table", o.table());
        config.put(p + "topic", "tributary." + o.name());
        config.put(p + "lease", "5s");
        config.put(p + "retention.done", "0");
        return config;
    }

    private static long between(Random random, Duration min, Duration max) {
        long span = max.toMillis() - min.toMillis();
        return min.toMillis() + (span > 0 ? random.nextInt((int) span) : 0);
    }

    private static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Takes the victim down for {@code downMs}; brings it back even when interrupted, so later runs find it up. */
    private static void inject(Servers s, TributaryProcess tributary, Fault fault, long downMs) throws InterruptedException {
        switch (fault) {
            case KAFKA -> outage(s.kafka::kill, downMs, s.kafka::start);
            case PRIMARY -> outage(s.primary::stop, downMs, s.primary::start);
            case STANDBY -> outage(s.standby::stop, downMs, s.standby::start);
            case TRIBUTARY -> outage(tributary::kill, downMs, tributary::start);
        }
    }

    private static void outage(Runnable down, long downMs, Runnable up) throws InterruptedException {
        down.run();
        try {
            Thread.sleep(downMs);
        } finally {
            up.run();
        }
    }

    /** Polls until the primary holds the source's newest state per key, or the deadline passes. */
    private static boolean awaitConverged(Servers s, OutboxWriter writer, Options o) throws Exception {
        String expected = writer.expected(o.keyPrefix());
        long deadline = System.nanoTime() + o.convergeWithin().toNanos();
        while (true) {
            try {
                if (expected.equals(OutboxWriter.actual(s.primary, o.table(), o.keyPrefix()))) {
                    return true;
                }
            } catch (SQLException tableNotThereYet) {
                // the sink creates the table with its first write
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(1_000);
        }
    }

    /** Compares the newest source state per key with the primary, key by key. */
    private static ChaosResult compare(Servers s, Options o, int rows, Map<Fault, Integer> faults, double seconds,
            boolean converged) throws SQLException {
        String state = "version || ':' || deleted || ':' || CASE WHEN deleted THEN '' ELSE md5(payload::text) END";
        Map<String, String> expected = newestInSource(s, o, state);
        long stale = 0;
        long duplicated = 0;
        long seen = 0;
        Map<String, Integer> copies = new HashMap<>();
        try (Connection c = Servers.connect(s.primary); PreparedStatement ps = c.prepareStatement("SELECT business_key, "
                + state + " FROM " + o.table() + " WHERE business_key LIKE ?")) {
            ps.setString(1, o.keyPrefix() + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    seen++;
                    String key = rs.getString(1);
                    // The key is the table's primary key, so a second copy or a key the source never wrote is a row
                    // the pipeline invented: both count as duplicated.
                    if (copies.merge(key, 1, Integer::sum) > 1 || !expected.containsKey(key)) {
                        duplicated++;
                    } else if (!expected.get(key).equals(rs.getString(2))) {
                        stale++;
                    }
                }
            }
        } catch (SQLException e) {
            if (!UNDEFINED_TABLE.equals(e.getSQLState())) {
                throw e;
            }
            // nothing ever reached the primary (the sink creates the table with its first write): every key is lost
        }
        long lost = expected.keySet().stream().filter(k -> !copies.containsKey(k)).count();
        String outbox = OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE aggregate = ?", o.name());
        return new ChaosResult(rows, expected.size(), seen, lost, duplicated, stale, faults, seconds,
                longestToPrimary(s, o), Long.parseLong(outbox), converged);
    }

    /** The source's newest change per key, as {@code version:deleted:md5(payload)}. */
    private static Map<String, String> newestInSource(Servers s, Options o, String state) throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Connection c = Servers.connect(s.source); PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON "
                + "(business_key) business_key, " + state + " FROM test_expected WHERE business_key LIKE ? "
                + "ORDER BY business_key, version DESC")) {
            ps.setString(1, o.keyPrefix() + "%");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return out;
    }

    /** Seconds from the source commit to the primary commit of the slowest row. */
    private static double longestToPrimary(Servers s, Options o) throws SQLException {
        try {
            return Double.parseDouble(OutboxWriter.query(s.primary, "SELECT coalesce(extract(epoch FROM "
                    + "max(synced_at - source_created_at)), 0) FROM " + o.table() + " WHERE business_key LIKE ?",
                    o.keyPrefix() + "%"));
        } catch (SQLException e) {
            if (!UNDEFINED_TABLE.equals(e.getSQLState())) {
                throw e;
            }
            return 0;
        }
    }
}
