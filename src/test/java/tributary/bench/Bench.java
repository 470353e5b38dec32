package tributary.bench;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.postgresql.PGConnection;

import tributary.crypto.Envelope;
import tributary.sink.SyncRecord;
import tributary.sink.TargetColumn;
import tributary.sink.TargetShape;
import tributary.sink.TargetSql;
import tributary.sink.TargetWriter;
import tributary.testing.Db;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * End-to-end figures on real servers (PostgreSQL with synchronous_commit=on and fsync=on), all in one run so they
 * can be compared as ratios:
 * <ol>
 * <li>baseline: the fastest plain copy of the same rows into the same typed table by one JDBC thread, no Kafka:
 * batched upsert or COPY, whichever is faster (printed);</li>
 * <li>the sink alone: typed columns against the payload-only jsonb table, same rows;</li>
 * <li>backlog: N rows committed to the outbox at once, drained by the pipeline into a typed table, with DONE rows
 * kept and with delete-at-ack; outbox row writes per record; Tributary's RSS and CPU seconds per 100,000 rows;</li>
 * <li>paced: after an unmeasured run at the same rate, a generator commits rows one per transaction at 1,000 and
 * 5,000 rows/s, then the same rates in transactions of 100 rows; latency source commit → primary commit.</li>
 * </ol>
 */
public final class Bench {

    private static final int BATCH = Integer.getInteger("bench.batch", 1000);

    /** The bench rows as typed columns: what analysts query. */
    private static final TargetShape TYPED = new TargetShape(List.of(TargetColumn.of("id", "bigint", null),
            TargetColumn.of("customer", "text", null), TargetColumn.of("amount", "numeric(12,2)", null),
            TargetColumn.of("state", "varchar(16)", null), TargetColumn.of("note", "text", null)), false);

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("bench.rows", 200_000);
        int seconds = Integer.getInteger("bench.seconds", 30);
        List<Integer> rates = new ArrayList<>();
        for (String r : System.getProperty("bench.rates", "1000,5000").split(",")) {
            rates.add(Integer.parseInt(r.trim()));
        }
        Servers s = Servers.get();
        OutboxWriter.createOutbox(s.source);
        // The pipelines' outboxes are created by Tributary (create-table), with exactly its indexes.
        exec(s, "CREATE TABLE bench_base (LIKE tributary_outbox INCLUDING ALL)");
        exec(s, "INSERT INTO bench_base (aggregate, business_key, version, payload) SELECT 'bench', 'key-' || g, 1, "
                + "jsonb_build_object('id', g, 'customer', 'customer-' || (g % 1000), 'amount', (g % 100000) / 100.0, "
                + "'state', 'PAID', 'note', repeat('x', 80)) FROM generate_series(1, " + rows + ") g");
        String avg = OutboxWriter.query(s.source, "SELECT round(avg(length(payload::text))) FROM bench_base");
        System.out.printf("rows: %d, payload ~%s bytes, PostgreSQL synchronous_commit=%s fsync=%s%n", rows, avg,
                OutboxWriter.query(s.primary, "SHOW synchronous_commit"), OutboxWriter.query(s.primary, "SHOW fsync"));

        // Warm the JIT on the code paths each copy uses, so the first measured copy is not charged for it.
        copyByUpsert(s, rows, typedWriter(s, "bench_warm_typed"));
        copyByUpsert(s, rows, new TargetWriter(Db.of(s.primary), new TargetSql("bench_warm_jsonb")));
        double upsert = copyByUpsert(s, rows, typedWriter(s, "bench_direct_upsert"));
        double copy = copyByCopy(s, rows);
        double baseline = Math.max(upsert, copy);
        System.out.printf("baseline  plain copy into the typed table: %,.0f rows/s (%s; batched upsert %,.0f, COPY %,.0f)%n",
                baseline, copy > upsert ? "COPY" : "batched upsert", upsert, copy);
        double jsonb = copyByUpsert(s, rows, new TargetWriter(Db.of(s.primary), new TargetSql("bench_direct_jsonb")));
        System.out.printf("sink      typed columns %,.0f rows/s, payload-only jsonb %,.0f rows/s: typed/jsonb %.2f%n", upsert,
                jsonb, upsert / jsonb);

        if (Boolean.getBoolean("bench.table-only")) {
            tableMode(s, rows, baseline);
            System.exit(0);
        }
        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.node-id", "bench-1");
        // Settings to try without a rebuild: -Dbench.set=key=value;key=value
        for (String kv : System.getProperty("bench.set", "").split(";")) {
            if (kv.contains("=")) {
                config.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        pipeline(config, "bench", "bench_outbox", "1h");
        pipeline(config, "purge", "purge_outbox", "0");
        pipeline(config, "warm", "warm_outbox", "0");
        rates.forEach(r -> pipeline(config, "paced" + r, "paced" + r + "_outbox", "1h"));
        pipeline(config, "scale", "scale_outbox", "1h");
        Path log = Path.of("target", "bench", "tributary.log").toAbsolutePath();
        String heap = System.getProperty("bench.heap", "512m");
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, Ports.free())
                .heap(heap)) {
            String jfr = System.getProperty("bench.jfr", "");
            if (!jfr.isEmpty()) {
                // A CPU profile of Tributary for the whole run: jfr print --events jdk.ExecutionSample <file>
                tributary.jvm("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
            }
            tributary.jvm("-Xlog:gc:file=" + log.resolveSibling("gc.log"));
            tributary.start();
            Thread.sleep(10_000); // consumers join their groups, idle collect workers back off
            idle(tributary, "after start-up", 4 + rates.size());
            // As the anchor's harness does: rows through the pipeline before measuring, so no figure pays the JIT.
            // The JIT compiles for minutes on two cores (measured: 1,000 methods in 15 s, half of Tributary's CPU,
            // after 100,000 rows), so the warm-up runs until compilation has mostly settled.
            // Then more rounds of N rows until the JIT's compiler threads used less than 5 % of a core over the last
            // round, at most bench.warm-up-max rows in all (measured: the C2 compiler thread was still 43 % of
            // Tributary's CPU during a backlog after 200,000 warm-up rows).
            warmUntilSettled(s, tributary, "w", rows, "the");
            // -Dbench.paced-only=true: the paced runs alone, after the warm-up (to compare latency between builds).
            boolean pacedOnly = Boolean.getBoolean("bench.paced-only");
            if (!pacedOnly) {
                backlog(s, tributary, "bench_outbox", "bench_sync", rows, baseline, "DONE rows kept");
            }
            boolean all = !Boolean.getBoolean("bench.backlog-only") && !pacedOnly;
            if (all) {
                backlog(s, tributary, "purge_outbox", "purge_sync", rows, baseline, "DONE deleted at ack");
            }
            // Each paced rate first runs unmeasured, 10 s at a time, until the JIT's compiler threads used less than
            // 5 % of a core over the last 10 s (at most bench.paced-warm-up seconds, default 120): the backlog warm-up
            // leaves the JIT compiling the paths small batches take (measured: the C2 compiler thread took 40 % of
            // Tributary's CPU during a paced run after 200,000 warm-up rows, and still 43 % after 20 s more at the
            // paced rate), and a process in production runs for days.
            int pacedWarmUp = Integer.getInteger("bench.paced-warm-up", 120);
            for (int rate : all || pacedOnly ? rates : List.<Integer>of()) {
                String outbox = "paced" + rate + "_outbox";
                String target = "paced" + rate + "_sync";
                int warmed = 0;
                double jit = 0;
                while (warmed < pacedWarmUp) {
                    String keys = "warm" + warmed + "-";
                    jit = jitShare(tributary, () -> paced(s, outbox, target, rate, 10, 1, keys));
                    warmed += 10;
                    if (jit < 0.05) {
                        break;
                    }
                }
                if (warmed > 0) {
                    System.out.printf("paced     warm-up: %d s at %,d rows/s, unmeasured; the JIT's compiler threads used %.0f %% "
                            + "of a core over the last 10 s%n", warmed, rate, jit * 100);
                }
                // One row per transaction, as a business system's order entry writes; then the same rate in
                // transactions of 100 rows, 10 a second at 1,000 rows/s: the shape the anchor's latency run has.
                for (int perTx : List.of(1, 100)) {
                    String keys = perTx == 1 ? "paced-" : "tx" + perTx + "-";
                    double cpu = tributary.cpuSeconds();
                    double compiler = tributary.compilerSeconds();
                    long[] machine = machineTicks();
                    double[] servers = serverSeconds(s);
                    long started = System.nanoTime();
                    String collect = "collect-outbox-paced" + rate;
                    String sync = "sync-jdbc-primary-paced" + rate;
                    double[] before = routeTotals(tributary, collect, sync);
                    long scans = outboxScans(s, outbox);
                    long lag = paced(s, outbox, target, rate, seconds, perTx, keys);
                    System.out.printf("paced     %,d rows/s for %d s, %s, source commit → primary commit: %s; last row %d "
                            + "ms behind%n", rate, seconds, perTx == 1 ? "one row per transaction"
                            : String.format("%d transactions/s of %d rows", rate / perTx, perTx),
                            latency(s, target, keys), lag);
                    System.out.printf("          %s%n", stages(s, outbox, target, keys));
                    double[] after = routeTotals(tributary, collect, sync);
                    double batches = after[1] - before[1];
                    double elapsed = (System.nanoTime() - started) / 1e9;
                    System.out.printf("          during it: Tributary CPU %.0f %% of a core (its JIT compiler threads %.0f %%); "
                            + "%,.0f sync batches of %.1f ms; %,.0f collect ticks%n", (tributary.cpuSeconds() - cpu) * 100
                            / elapsed, (tributary.compilerSeconds() - compiler) * 100 / elapsed, batches,
                            (after[2] - before[2]) * 1000 / Math.max(1, batches), after[0] - before[0]);
                    double[] serversAfter = serverSeconds(s);
                    System.out.printf("          the machine: %s; of a core: the business database %.0f %% (the "
                            + "generator's sessions included), the primary %.0f %%, the broker %.0f %%%n",
                            machineSince(machine), (serversAfter[0] - servers[0]) * 100 / elapsed,
                            (serversAfter[1] - servers[1]) * 100 / elapsed, (serversAfter[2] - servers[2]) * 100 / elapsed);
                    System.out.printf("          the business database: %.0f outbox scans per 1,000 rows (index and table "
                            + "scans from pg_stat_user_tables: claims, status changes, maintenance)%n", (outboxScans(s, outbox) - scans) * 1000.0
                            / ((long) rate * seconds));
                }
            }
            if (all || pacedOnly) {
                Thread.sleep(5_000); // the paced pipeline's collect workers back off
                idle(tributary, "after the load", 4 + rates.size());
            }
            System.out.printf("memory    Tributary RSS %d MiB after the run (-Xmx%s)%n", tributary.rssBytes() >> 20, heap);
            if (all) {
                replicas(s, tributary, config, heap, rows, baseline);
            }
        }
        System.out.println("Tributary log: " + log);
        if (Boolean.getBoolean("bench.paced-only")) {
            System.exit(0);
        }
        tableMode(s, rows, baseline);
        System.exit(0);
    }

    /**
     * Tributary's CPU over 20 s with every pipeline idle. After start-up it includes the JIT compiling start-up
     * code; after the load, it is what idle pipelines cost.
     */
    private static void idle(TributaryProcess tributary, String when, int pipelines) throws Exception {
        double cpu = tributary.cpuSeconds();
        long[] machine = machineTicks();
        Thread.sleep(20_000);
        System.out.printf("idle      %s: Tributary CPU %.1f %% of a core over 20 s with its %d pipelines idle; the "
                + "machine: %s%n", when, (tributary.cpuSeconds() - cpu) * 100 / 20, pipelines, machineSince(machine));
    }

    /**
     * Rows through the warm pipeline, in rounds of at most {@code rows} with keys of their own, each round waited
     * for, so the JIT has compiled what the measured runs use.
     */
    private static void warmUp(Servers s, String prefix, int warm, int rows) throws Exception {
        long before = Long.parseLong(OutboxWriter.query(s.primary, "SELECT count(*) FROM warm_sync"));
        for (int done = 0, round = 0; done < warm; round++) {
            int n = Math.min(rows, warm - done);
            exec(s, "INSERT INTO warm_outbox (aggregate, business_key, version, payload) SELECT aggregate, '" + prefix
                    + round + "-' || business_key, version, payload FROM bench_base ORDER BY id LIMIT " + n);
            done += n;
            while (Long.parseLong(OutboxWriter.query(s.primary, "SELECT count(*) FROM warm_sync")) < before + done) {
                Thread.sleep(200);
            }
        }
    }

    /**
     * At least bench.warm-up rows through the warm pipeline, then rounds of {@code rows} more until the JIT's compiler
     * threads of {@code replica} used less than 5 % of a core over the last round (at most bench.warm-up-max rows in
     * all); prints what it took.
     */
    private static void warmUntilSettled(Servers s, TributaryProcess replica, String prefix, int rows, String whose)
            throws Exception {
        int warm = Integer.getInteger("bench.warm-up", 400_000);
        int warmMax = Integer.getInteger("bench.warm-up-max", 1_000_000);
        warmUp(s, prefix, Math.max(0, warm - rows), rows);
        int warmed = Math.max(0, warm - rows);
        double jit = 0;
        for (int round = 0; warm > 0 && (warmed < warm || jit >= 0.05 && warmed + rows <= warmMax); round++) {
            String keys = prefix + "x" + round + "-";
            jit = jitShare(replica, () -> warmUp(s, keys, rows, rows));
            warmed += rows;
        }
        System.out.printf("warm-up   %,d unmeasured rows through the pipeline; %s JIT's compiler threads used %.0f %% "
                + "of a core over the last %,d%n", warmed, whose, jit * 100, rows);
    }

    /** Something the bench runs, that may throw. */
    private interface Work {
        void run() throws Exception;
    }

    /** Runs {@code work} and returns the share of a core Tributary's JIT compiler threads used meanwhile. */
    private static double jitShare(TributaryProcess tributary, Work work) throws Exception {
        double compiled = tributary.compilerSeconds();
        long started = System.nanoTime();
        work.run();
        return (tributary.compilerSeconds() - compiled) / ((System.nanoTime() - started) / 1e9);
    }

    /**
     * Scale-out: a second replica with the same pipelines (its own spool directory and port) joins the first and
     * warms up beside it; then both drain one backlog of one outbox, sharing the claims (SKIP LOCKED) and the
     * topic's partitions (the consumer group).
     */
    private static void replicas(Servers s, TributaryProcess first, Map<String, String> config, String heap, int rows,
            double baseline) throws Exception {
        Map<String, String> c = new TreeMap<>(config);
        c.put("tributary.spool.dir", s.dir.resolve("spool-second-" + System.nanoTime()).toString());
        c.put("tributary.node-id", "bench-2");
        Path log = Path.of("target", "bench", "tributary-2.log").toAbsolutePath();
        try (TributaryProcess second = new TributaryProcess(TributaryProcess.defaultJar(), log, c, Ports.free())
                .heap(heap)) {
            second.start();
            Thread.sleep(5_000); // the groups rebalance over both replicas
            // The second replica pays the JIT as the first did (measured: 7.2 s CPU per 100,000 rows after a fixed
            // 400,000 warm-up rows, against the first's 4.4 s), so it too warms up until its compilation settled.
            warmUntilSettled(s, second, "r", rows, "the second replica's");
            double cpu = second.cpuSeconds();
            backlog(s, first, "scale_outbox", "scale_sync", rows, baseline, "two replicas");
            System.out.printf("          the second replica: CPU %.1f s per 100,000 rows, RSS %d MiB%n",
                    (second.cpuSeconds() - cpu) * 100_000 / rows, second.rssBytes() >> 20);
        }
    }

    private static TargetWriter typedWriter(Servers s, String table) {
        return new TargetWriter(Db.of(s.primary), new TargetSql(table), true,
                new TargetWriter.Settings("bench", TYPED, TargetWriter.Evolution.IGNORE));
    }

    private static void pipeline(Map<String, String> c, String name, String outbox, String retention) {
        String p = "tributary.pipelines." + name + ".";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.table", outbox);
        c.put(p + "source.create-table", "true");
        c.put(p + "source.aggregate", "bench");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", name + "_sync");
        c.put(p + "retention.done", retention);
        c.put(p + "batch-size", String.valueOf(BATCH));
        for (TargetColumn col : TYPED.columns()) {
            c.put(p + "target.columns." + col.name() + ".type", col.type().sql());
        }
    }

    /**
     * Table mode: an existing table of {@code rows} rows is copied (snapshot, from the process's start to the last
     * row in the primary, reader start-up included), then {@code rows} more inserted in transactions of 1,000 as fast
     * as the source takes them are streamed (from the first insert to the last row in the primary).
     */
    private static void tableMode(Servers s, int rows, double baseline) throws Exception {
        exec(s, "CREATE TABLE bench_table (id bigint PRIMARY KEY, customer text, amount numeric(12,2), state varchar(16), "
                + "note text)");
        exec(s, "INSERT INTO bench_table SELECT g, 'customer-' || (g % 1000), (g % 100000) / 100.0, 'PAID', "
                + "repeat('x', 80) FROM generate_series(1, " + rows + ") g");
        exec(s, "ANALYZE bench_table");
        Map<String, String> c = TributaryProcess.baseConfig(s);
        String p = "tributary.pipelines.table.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.mode", "table");
        c.put(p + "source.table", "bench_table");
        c.put(p + "source.capture.heartbeat", "1s");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "table_sync");
        c.put(p + "batch-size", String.valueOf(BATCH));
        for (TargetColumn col : TYPED.columns()) {
            if (!col.name().equals("id")) {
                c.put(p + "target.columns." + col.name() + ".type", col.type().sql());
            }
        }
        Path log = Path.of("target", "bench", "tributary-table.log").toAbsolutePath();
        String count = "SELECT count(*) FROM table_sync";
        long start = System.nanoTime();
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, c, Ports.free())
                .heap(System.getProperty("bench.heap", "512m"))) {
            tributary.start();
            long started = System.nanoTime();
            awaitRows(s, count, rows);
            double snapshot = rows / ((System.nanoTime() - start) / 1e9);
            // As the anchor times its snapshot: from the running worker's new connector, not from a process start.
            double afterStart = rows / ((System.nanoTime() - started) / 1e9);
            long streamStart = System.nanoTime();
            for (int from = rows + 1; from <= 2 * rows; from += 1000) {
                exec(s, "INSERT INTO bench_table SELECT g, 'customer-' || (g % 1000), (g % 100000) / 100.0, 'PAID', "
                        + "repeat('x', 80) FROM generate_series(" + from + ", " + Math.min(2 * rows, from + 999) + ") g");
            }
            awaitRows(s, count, 2 * rows);
            double stream = rows / ((System.nanoTime() - streamStart) / 1e9);
            System.out.printf("table     snapshot %,.0f rows/s (ratio %.2f, process start-up included; %,.0f rows/s from "
                    + "the started process), streaming %,.0f rows/s (ratio %.2f), RSS %d MiB%n", snapshot,
                    snapshot / baseline, afterStart, stream, stream / baseline, tributary.rssBytes() >> 20);
        }
        OutboxWriter.query(s.source, "SELECT pg_drop_replication_slot('tributary_table')::text");
        System.out.println("Tributary log (table mode): " + log);
    }

    private static void awaitRows(Servers s, String count, long rows) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
        while (true) {
            String n;
            try {
                n = OutboxWriter.query(s.primary, count);
            } catch (SQLException notYet) {
                n = "0"; // the target table comes with the first write
            }
            if (Long.parseLong(n) >= rows) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("table mode did not deliver " + rows + " rows within 20 minutes");
            }
            Thread.sleep(50);
        }
    }

    /** Reads the rows with a cursor and upserts them with the same statement and batch size as the sink. */
    private static double copyByUpsert(Servers s, int rows, TargetWriter writer) throws SQLException {
        writer.createTable();
        long start = System.nanoTime();
        int copied = 0;
        try (Connection c = Servers.connect(s.source)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id, business_key, version, payload::text, created_at "
                    + "FROM bench_base ORDER BY id")) {
                ps.setFetchSize(BATCH);
                try (ResultSet rs = ps.executeQuery()) {
                    List<SyncRecord> batch = new ArrayList<>(BATCH);
                    while (rs.next()) {
                        batch.add(new SyncRecord(rs.getString(2), new Envelope(rs.getLong(1), rs.getLong(3), false,
                                rs.getTimestamp(5).toInstant(), rs.getString(4))));
                        if (batch.size() == BATCH) {
                            copied += flush(writer, batch);
                        }
                    }
                    copied += flush(writer, batch);
                }
            }
        }
        return rate(rows, copied, start);
    }

    /** Reads the rows with a cursor and COPYs them, typed, into an empty table, one transaction per batch. */
    private static double copyByCopy(Servers s, int rows) throws SQLException, IOException {
        typedWriter(s, "bench_direct_copy").createTable();
        long start = System.nanoTime();
        int copied = 0;
        try (Connection src = Servers.connect(s.source); Connection dst = Servers.connect(s.primary)) {
            src.setAutoCommit(false);
            dst.setAutoCommit(false);
            var copy = dst.unwrap(PGConnection.class).getCopyAPI();
            String into = "COPY bench_direct_copy (business_key, version, source_created_at, id, customer, amount, state, "
                    + "note) FROM STDIN (FORMAT csv)";
            try (PreparedStatement ps = src.prepareStatement("SELECT business_key, version, created_at, payload->>'id', "
                    + "payload->>'customer', payload->>'amount', payload->>'state', payload->>'note' FROM bench_base "
                    + "ORDER BY id")) {
                ps.setFetchSize(BATCH);
                try (ResultSet rs = ps.executeQuery()) {
                    StringBuilder csv = new StringBuilder();
                    int n = 0;
                    while (rs.next()) {
                        for (int i = 1; i <= 8; i++) {
                            String v = i == 3 ? rs.getTimestamp(3).toInstant().toString() : rs.getString(i);
                            csv.append(i > 1 ? "," : "").append('"').append(v.replace("\"", "\"\"")).append('"');
                        }
                        csv.append('\n');
                        if (++n == BATCH) {
                            copied += (int) copy.copyIn(into, new StringReader(csv.toString()));
                            dst.commit();
                            csv.setLength(0);
                            n = 0;
                        }
                    }
                    if (n > 0) {
                        copied += (int) copy.copyIn(into, new StringReader(csv.toString()));
                        dst.commit();
                    }
                }
            }
        }
        return rate(rows, copied, start);
    }

    private static double rate(int rows, int copied, long startNanos) {
        if (copied != rows) {
            throw new IllegalStateException("copied " + copied + " of " + rows);
        }
        return rows / ((System.nanoTime() - startNanos) / 1e9);
    }

    private static int flush(TargetWriter writer, List<SyncRecord> batch) throws SQLException {
        int n = batch.size();
        writer.write(batch);
        batch.clear();
        return n;
    }

    /**
     * Commits all rows to the outbox in one transaction, times until the primary has them all and prints the
     * figures: rows/s and ratio, latency, outbox row writes per record, CPU seconds per 100,000 rows and RSS.
     */
    private static void backlog(Servers s, TributaryProcess tributary, String outbox, String target, int rows,
            double baseline, String label) throws Exception {
        exec(s, "INSERT INTO " + outbox + " (aggregate, business_key, version, payload, created_at) "
                + "SELECT aggregate, business_key, version, payload, clock_timestamp() FROM bench_base");
        long before = outboxWrites(s, outbox);
        long scans = outboxScans(s, outbox);
        String wal = OutboxWriter.query(s.source, "SELECT CAST(pg_current_wal_lsn() AS text)");
        double[] servers = serverSeconds(s);
        double cpu = tributary.cpuSeconds();
        double compiler = tributary.compilerSeconds();
        long start = System.nanoTime();
        long rss = 0;
        String count = "SELECT count(*) FROM " + target;
        // Whether a row is left unclaimed (one probe of the claim index): once none is, collect took the whole backlog.
        String unclaimed = "SELECT count(*) FROM (SELECT 1 FROM " + outbox + " WHERE status IN ('PENDING', 'FAILED') "
                + "LIMIT 1) x";
        long collected = 0;
        // Polled every 100 ms, as the anchor's harness polls its target: counting a growing table costs the primary.
        while (Long.parseLong(OutboxWriter.query(s.primary, count)) < rows) {
            Thread.sleep(100);
            rss = Math.max(rss, tributary.rssBytes());
            if (collected == 0 && Long.parseLong(OutboxWriter.query(s.source, unclaimed)) == 0) {
                collected = System.nanoTime();
            }
            if (System.nanoTime() - start > Duration.ofMinutes(20).toNanos()) {
                throw new IllegalStateException("pipeline did not finish within 20 minutes");
            }
        }
        long end = System.nanoTime();
        double rate = rows / ((end - start) / 1e9);
        double collectRate = rows / (((collected == 0 ? end : collected) - start) / 1e9);
        // Acks trail the primary's commit: wait until every row is DONE (or deleted) before counting writes.
        String left = "SELECT count(*) FROM " + outbox + " WHERE status NOT IN ('DONE')";
        for (int i = 0; i < 600 && Long.parseLong(OutboxWriter.query(s.source, left)) > 0; i++) {
            Thread.sleep(100);
        }
        double cpuPer100k = (tributary.cpuSeconds() - cpu) * 100_000 / rows;
        double[] serversAfter = serverSeconds(s);
        double walPerRecord = Double.parseDouble(OutboxWriter.query(s.source, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                + "CAST(? AS pg_lsn))", wal)) / rows;
        double jitPer100k = (tributary.compilerSeconds() - compiler) * 100_000 / rows;
        Thread.sleep(1_500); // statistics reach pg_stat_user_tables within a second
        double writes = (outboxWrites(s, outbox) - before) / (double) rows;
        double scansPer1000 = (outboxScans(s, outbox) - scans) * 1000.0 / rows;
        System.out.printf("pipeline  backlog, %-20s %,.0f rows/s  ratio %.2f  latency %s%n", label + ":", rate,
                rate / baseline, latency(s, target, ""));
        System.out.printf("          outbox row writes per record %.2f, outbox scans per 1,000 records %.1f, CPU %.1f s "
                + "per 100,000 rows (the JIT's compiler threads %.1f s), RSS peak %d MiB; collect claimed the backlog at "
                + "%,.0f rows/s%n", writes, scansPer1000, cpuPer100k, jitPer100k, rss >> 20, collectRate);
        System.out.printf("          the servers' CPU per 100,000 rows: business database %.1f s, primary %.1f s, broker %.1f s; "
                + "the business database's write-ahead log %,.0f bytes per record%n", (serversAfter[0] - servers[0])
                * 100_000 / rows, (serversAfter[1] - servers[1]) * 100_000 / rows, (serversAfter[2] - servers[2])
                * 100_000 / rows, walPerRecord);
    }

    /** CPU seconds so far of the business database, the primary and the broker (each with all its processes). */
    private static double[] serverSeconds(Servers s) throws IOException {
        return new double[] {s.source.cpuSeconds(), s.primary.cpuSeconds(), s.kafka.cpuSeconds()};
    }

    /**
     * The outbox's index and sequential scans so far: what claims, status changes and maintenance queries cost the
     * business database in lookups (the business's inserts scan nothing). The statistics trail by up to a second.
     */
    private static long outboxScans(Servers s, String outbox) throws SQLException {
        return Long.parseLong(OutboxWriter.query(s.source, "SELECT coalesce(idx_scan, 0) + seq_scan FROM "
                + "pg_stat_user_tables WHERE relname = ?", outbox));
    }

    /** Row updates and deletes on the outbox so far (the business's own inserts are not counted). */
    private static long outboxWrites(Servers s, String outbox) throws SQLException {
        return Long.parseLong(OutboxWriter.query(s.source, "SELECT n_tup_upd + n_tup_del FROM pg_stat_user_tables "
                + "WHERE relname = ?", outbox));
    }

    /**
     * Rows at a fixed rate, {@code perTx} per transaction, keys {@code keys + i}. One row per transaction comes from
     * several sessions at once (one per 250 transactions/s), as a business system's connection pool writes, since one
     * session waits for each commit's flush and could not reach the rate on a slow machine (measured: one session
     * managed 520-790 rows/s). Transaction j is due at j * perTx / rate seconds whichever session writes it. Waits
     * until all arrived and returns how far the last row's commit in the primary trailed its source commit (growing
     * lag shows here).
     */
    private static long paced(Servers s, String outbox, String target, int rate, int seconds, int perTx, String keys)
            throws Exception {
        int total = rate * seconds;
        long intervalNanos = 1_000_000_000L * perTx / rate;
        int transactions = total / perTx;
        int sessions = Math.max(1, rate / perTx / 250);
        long start = System.nanoTime();
        List<Future<?>> writers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            for (int w = 0; w < sessions; w++) {
                int first = w;
                writers.add(pool.submit(() -> {
                    try (Connection c = Servers.connect(s.source); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                            + outbox + " (aggregate, business_key, version, payload) VALUES ('bench', ?, 1, CAST(? AS jsonb))")) {
                        c.setAutoCommit(perTx == 1);
                        for (int j = first; j < transactions; j += sessions) {
                            long wait = start + j * intervalNanos - System.nanoTime();
                            if (wait > 0) {
                                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                            }
                            for (int i = j * perTx; i < (j + 1) * perTx; i++) {
                                ps.setString(1, keys + i);
                                ps.setString(2, "{\"id\": " + i + ", \"customer\": \"customer-" + (i % 1000)
                                        + "\", \"state\": \"PAID\", \"amount\": " + (i % 1000) + ".5, \"note\": \"paced\"}");
                                if (perTx == 1) {
                                    ps.executeUpdate();
                                } else {
                                    ps.addBatch();
                                }
                            }
                            if (perTx > 1) {
                                ps.executeBatch();
                                c.commit();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : writers) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        Instant deadline = Instant.now().plusSeconds(300);
        while (Long.parseLong(OutboxWriter.query(s.primary, "SELECT count(*) FROM " + target + " WHERE business_key LIKE ?",
                keys + "%")) < total) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("paced rows did not all arrive");
            }
            Thread.sleep(50);
        }
        return Math.round(Double.parseDouble(OutboxWriter.query(s.primary, "SELECT extract(epoch FROM synced_at - "
                + "source_created_at) * 1000 FROM " + target + " WHERE business_key = ?", keys + (total - 1))));
    }

    /**
     * From one read of Camel's route policy timers: the collect route's exchanges so far, the sync route's exchanges
     * and their total seconds. A pipeline's collect workers after the first are routes of their own (id.1, id.2, …)
     * and count too.
     */
    private static double[] routeTotals(TributaryProcess tributary, String collect, String sync) throws Exception {
        double[] totals = new double[3];
        for (String line : tributary.http("/q/metrics").body().split("\n")) {
            double v = line.startsWith("camel_route_policy_seconds_") ? Double.parseDouble(line.substring(
                    line.lastIndexOf(' ') + 1)) : 0;
            if (line.startsWith("camel_route_policy_seconds_count") && (line.contains("routeId=\"" + collect + "\"")
                    || line.contains("routeId=\"" + collect + "."))) {
                totals[0] += v;
            } else if (line.startsWith("camel_route_policy_seconds_count") && line.contains("routeId=\"" + sync + "\"")) {
                totals[1] += v;
            } else if (line.startsWith("camel_route_policy_seconds_sum") && line.contains("routeId=\"" + sync + "\"")) {
                totals[2] += v;
            }
        }
        return totals;
    }

    /** The machine's CPU ticks from /proc/stat: busy, idle, stolen by the hypervisor, total (zeros elsewhere). */
    private static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            return new long[] {total - idle - steal, idle, steal, total};
        } catch (IOException | RuntimeException e) {
            return new long[4];
        }
    }

    /**
     * How the machine's CPU time went since {@code before}: busy, idle, and stolen by the hypervisor (time the two
     * cores were not ours; a run with much of it is not comparable with one without).
     */
    private static String machineSince(long[] before) {
        long[] now = machineTicks();
        double total = Math.max(1, now[3] - before[3]);
        return String.format("busy %.0f %%, idle %.0f %%, stolen by the hypervisor %.0f %%", (now[0] - before[0]) * 100
                / total, (now[1] - before[1]) * 100 / total, (now[2] - before[2]) * 100 / total);
    }

    /**
     * Where a paced row's latency went: source commit → claim (the outbox's claimed_at, collect's polling) and claim
     * → primary commit (seal, Kafka both ways, the sink), as p50 / p99 of each, and the mean split of the slowest 1 %.
     */
    private static String stages(Servers s, String outbox, String target, String keys) throws SQLException {
        Map<String, double[]> rows = new HashMap<>();
        for (String r : OutboxWriter.rows(s.source, "SELECT business_key || ' ' || extract(epoch FROM created_at) * 1000 "
                + "|| ' ' || extract(epoch FROM claimed_at) * 1000 FROM " + outbox + " WHERE claimed_at IS NOT NULL AND business_key "
                + "LIKE ?", keys + "%")) {
            String[] f = r.split(" ");
            rows.put(f[0], new double[] {Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.NaN});
        }
        for (String r : OutboxWriter.rows(s.primary, "SELECT business_key || ' ' || extract(epoch FROM synced_at) * 1000 "
                + "FROM " + target + " WHERE business_key LIKE ?", keys + "%")) {
            double[] t = rows.get(r.substring(0, r.indexOf(' ')));
            if (t != null) {
                t[2] = Double.parseDouble(r.substring(r.indexOf(' ') + 1));
            }
        }
        List<double[]> split = new ArrayList<>();
        double first = rows.values().stream().mapToDouble(t -> t[0]).min().orElse(0);
        double last = rows.values().stream().mapToDouble(t -> t[0]).max().orElse(0);
        TreeMap<Long, double[]> seconds = new TreeMap<>();
        for (double[] t : rows.values()) {
            if (!Double.isNaN(t[2])) {
                split.add(new double[] {t[1] - t[0], t[2] - t[1]});
                double[] w = seconds.computeIfAbsent((long) ((t[0] - first) / 1000), k -> new double[2]);
                w[0] = Math.max(w[0], t[1] - t[0]);
                w[1] = Math.max(w[1], t[2] - t[1]);
            }
        }
        StringBuilder worst = new StringBuilder();
        seconds.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0] + b.getValue()[1],
                a.getValue()[0] + a.getValue()[1])).limit(4).forEach(e -> worst.append(String.format(" s%d %.0f+%.0f",
                e.getKey(), e.getValue()[0], e.getValue()[1])));
        if (split.isEmpty()) {
            return "stages    n/a";
        }
        double[] claim = split.stream().mapToDouble(t -> t[0]).sorted().toArray();
        double[] rest = split.stream().mapToDouble(t -> t[1]).sorted().toArray();
        split.sort((a, b) -> Double.compare(b[0] + b[1], a[0] + a[1]));
        List<double[]> slowest = split.subList(0, Math.max(1, split.size() / 100));
        return String.format("generated at %,.0f rows/s; stages: commit → claim p50 %.0f, p99 %.0f ms; claim → primary "
                + "p50 %.0f, p99 %.0f ms; slowest 1 %%: %.0f ms waiting for the claim, %.0f ms after it; worst seconds "
                + "(claim+rest max):%s", rows.size() * 1000 / Math.max(1, last - first), pct(claim, 0.5), pct(claim, 0.99),
                pct(rest, 0.5), pct(rest, 0.99), slowest.stream().mapToDouble(t -> t[0]).average().orElse(0),
                slowest.stream().mapToDouble(t -> t[1]).average().orElse(0), worst);
    }

    private static double pct(double[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))];
    }

    private static String latency(Servers s, String table, String keys) throws SQLException {
        return OutboxWriter.query(s.primary, "SELECT format('p50 %s ms, p95 %s ms, p99 %s ms, max %s ms', round(p[1]), "
                + "round(p[2]), round(p[3]), round(mx)) FROM (SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                + "(ORDER BY l) p, max(l) mx FROM (SELECT extract(epoch FROM synced_at - source_created_at) * 1000 l FROM "
                + table + " WHERE business_key LIKE ?) x) y", keys + "%");
    }

    private static void exec(Servers s, String sql) throws SQLException {
        OutboxWriter.update(s.source, sql);
    }
}
