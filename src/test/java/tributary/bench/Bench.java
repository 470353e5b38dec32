package tributary.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
 * End-to-end figures on real servers, all in one run so they can be compared as ratios:
 * <ol>
 * <li>baseline: the rows copied source → primary by a plain JDBC batch upsert, no Kafka;</li>
 * <li>backlog: N rows committed to the outbox at once, drained by the pipeline (retention on and off);</li>
 * <li>paced: a generator commits rows one per transaction at a fixed rate; latency source commit → primary commit.</li>
 * </ol>
 */
public final class Bench {

    private static final int BATCH = 1000;

    public static void main(String[] args) throws Exception {
        int rows = Integer.getInteger("bench.rows", 200_000);
        int rate = Integer.getInteger("bench.rate", 1_000);
        int pacedSeconds = Integer.getInteger("bench.seconds", 30);
        Servers s = Servers.get();
        OutboxWriter.createOutbox(s.source);
        for (String table : List.of("bench_base", "bench_outbox", "purge_outbox", "paced_outbox", "typed_outbox")) {
            exec(s, "CREATE TABLE " + table + " (LIKE tributary_outbox INCLUDING ALL)");
        }
        exec(s, "INSERT INTO bench_base (aggregate, business_key, version, payload) SELECT 'bench', 'key-' || g, 1, "
                + "jsonb_build_object('id', g, 'customer', 'customer-' || (g % 1000), 'amount', (g % 100000) / 100.0, "
                + "'state', 'PAID', 'note', repeat('x', 80)) FROM generate_series(1, " + rows + ") g");
        String avg = OutboxWriter.query(s.source, "SELECT round(avg(length(payload::text))) FROM bench_base");
        System.out.printf("rows: %d, payload ~%s bytes%n", rows, avg);

        double baseline = baseline(s, rows, new TargetWriter(Db.of(s.primary), new TargetSql("bench_direct")));
        System.out.printf("baseline  plain JDBC copy source → primary: %,.0f rows/s%n", baseline);
        // The sink itself, on the same rows: typed columns against the payload-only jsonb table.
        double typedSink = baseline(s, rows, new TargetWriter(Db.of(s.primary), new TargetSql("bench_direct_typed"), true,
                new TargetWriter.Settings("bench", TYPED, TargetWriter.Evolution.IGNORE)));
        System.out.printf("sink      typed columns, same rows:        %,.0f rows/s  ratio to jsonb sink %.2f%n", typedSink,
                typedSink / baseline);

        Map<String, String> config = TributaryProcess.baseConfig(s);
        pipeline(config, "bench", "bench_outbox", "1h");
        pipeline(config, "purge", "purge_outbox", "0");
        pipeline(config, "paced", "paced_outbox", "1h");
        pipeline(config, "typed", "typed_outbox", "1h");
        for (TargetColumn col : TYPED.columns()) {
            config.put("tributary.pipelines.typed.target.columns." + col.name() + ".type", col.type().sql());
        }
        Path log = Path.of("target", "bench", "tributary.log").toAbsolutePath();
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, Ports.free()).start()) {
            Thread.sleep(3_000); // consumers join their groups
            double kept = backlog(s, "bench_outbox", "bench_sync", rows);
            System.out.printf("pipeline  backlog, DONE rows kept:        %,.0f rows/s  ratio %.2f  latency %s%n", kept,
                    kept / baseline, latency(s, "bench_sync"));
            double purged = backlog(s, "purge_outbox", "purge_sync", rows);
            System.out.printf("pipeline  backlog, DONE deleted at ack:   %,.0f rows/s  ratio %.2f  latency %s%n", purged,
                    purged / baseline, latency(s, "purge_sync"));
            double typed = backlog(s, "typed_outbox", "typed_sync", rows);
            System.out.printf("pipeline  backlog, typed target, kept:    %,.0f rows/s  ratio %.2f  latency %s%n", typed,
                    typed / baseline, latency(s, "typed_sync"));
            int sent = paced(s, rate, pacedSeconds);
            System.out.printf("paced     %d rows/s for %d s (%d rows), source commit → primary commit: %s%n", rate,
                    pacedSeconds, sent, latency(s, "paced_sync"));
            System.out.printf("outbox after run: bench %s rows left, purge %s rows left%n",
                    OutboxWriter.query(s.source, "SELECT count(*) FROM bench_outbox"),
                    OutboxWriter.query(s.source, "SELECT count(*) FROM purge_outbox"));
        }
        System.out.println("Tributary log: " + log);
        System.exit(0);
    }

    private static void pipeline(Map<String, String> c, String name, String outbox, String retention) {
        String p = "tributary.pipelines." + name + ".";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.table", outbox);
        c.put(p + "source.aggregate", "bench");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", name + "_sync");
        c.put(p + "retention.done", retention);
        c.put(p + "batch-size", String.valueOf(BATCH));
    }

    /** The bench rows as typed columns. */
    private static final TargetShape TYPED = new TargetShape(List.of(TargetColumn.of("id", "bigint", null),
            TargetColumn.of("customer", "text", null), TargetColumn.of("amount", "numeric(12,2)", null),
            TargetColumn.of("state", "varchar(16)", null), TargetColumn.of("note", "text", null)), false);

    /** Reads the rows with a cursor and upserts them with the same statement and batch size as the sink. */
    private static double baseline(Servers s, int rows, TargetWriter writer) throws SQLException {
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
        double seconds = (System.nanoTime() - start) / 1e9;
        if (copied != rows) {
            throw new IllegalStateException("baseline copied " + copied + " of " + rows);
        }
        return rows / seconds;
    }

    private static int flush(TargetWriter writer, List<SyncRecord> batch) throws SQLException {
        int n = batch.size();
        writer.write(batch);
        batch.clear();
        return n;
    }

    /** Commits all rows to the outbox in one transaction and times until the primary has them all. */
    private static double backlog(Servers s, String outbox, String target, int rows) throws Exception {
        exec(s, "INSERT INTO " + outbox + " (aggregate, business_key, version, payload, created_at) "
                + "SELECT aggregate, business_key, version, payload, clock_timestamp() FROM bench_base");
        long start = System.nanoTime();
        String count = "SELECT count(*) FROM " + target;
        while (Long.parseLong(OutboxWriter.query(s.primary, count)) < rows) {
            Thread.sleep(20);
            if (System.nanoTime() - start > Duration.ofMinutes(20).toNanos()) {
                throw new IllegalStateException("pipeline did not finish within 20 minutes");
            }
        }
        return rows / ((System.nanoTime() - start) / 1e9);
    }

    /** One row per transaction at a fixed rate, as a business system writes; waits until all arrived. */
    private static int paced(Servers s, int rate, int seconds) throws Exception {
        int total = rate * seconds;
        long intervalNanos = 1_000_000_000L / rate;
        try (Connection c = Servers.connect(s.source); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO paced_outbox (aggregate, business_key, version, payload) VALUES ('bench', ?, 1, CAST(? AS jsonb))")) {
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long due = start + i * intervalNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                ps.setString(1, "paced-" + i);
                ps.setString(2, "{\"id\": " + i + ", \"state\": \"PAID\", \"amount\": " + (i % 1000) + "}");
                ps.executeUpdate();
            }
        }
        Instant deadline = Instant.now().plusSeconds(120);
        while (Long.parseLong(OutboxWriter.query(s.primary, "SELECT count(*) FROM paced_sync")) < total) {
            if (Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("paced rows did not all arrive");
            }
            Thread.sleep(50);
        }
        return total;
    }

    private static String latency(Servers s, String table) throws SQLException {
        return OutboxWriter.query(s.primary, "SELECT format('p50 %s ms, p95 %s ms, p99 %s ms, max %s ms', round(p[1]), "
                + "round(p[2]), round(p[3]), round(mx)) FROM (SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP "
                + "(ORDER BY l) p, max(l) mx FROM (SELECT extract(epoch FROM synced_at - source_created_at) * 1000 l FROM "
                + table + ") x) y");
    }

    private static void exec(Servers s, String sql) throws SQLException {
        OutboxWriter.update(s.source, sql);
    }
}
