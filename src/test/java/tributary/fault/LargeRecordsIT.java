package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Heavy records under a small heap: a stream of 500 KB payloads flows with bounded memory (claims and sync batches
 * have byte budgets), and a record too large for Kafka is DEAD at once with its size instead of circling.
 */
class LargeRecordsIT {

    private static final int ROWS = 400;

    @Test
    void halfMegabytePayloadsFlowUnderA512MbHeapAndAnOversizedOneIsDead() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.node-id", "large-1");
        String p = "tributary.pipelines.large.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.aggregate", "large");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "large_orders");
        c.put(p + "topic", "tributary.large");
        c.put(p + "retention.done", "0");
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(),
                Path.of("target", "large-records", "tributary.log").toAbsolutePath(), c, Ports.free()).heap("512m").start()) {
            AtomicLong maxRss = new AtomicLong();
            long start = System.nanoTime();
            // 500 KB each (32-character md5 repeated), written as a business system would, in small transactions.
            for (int from = 1; from <= ROWS; from += 20) {
                OutboxWriter.update(s.source, "WITH ins AS (INSERT INTO tributary_outbox (aggregate, business_key, version, "
                        + "payload) SELECT 'large', 'large-' || g, 1, jsonb_build_object('n', g, 'blob', "
                        + "repeat(md5(g::text), 16000)) FROM generate_series(?, ?) g RETURNING business_key, version, payload) "
                        + "INSERT INTO test_expected SELECT business_key, version, false, payload, NULL FROM ins",
                        from, from + 19);
                maxRss.accumulateAndGet(tributary.rssBytes(), Math::max);
            }
            // 2 MB: over the default record limit of 1,000,000 bytes.
            OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) "
                    + "VALUES ('large', 'oversized-1', 1, jsonb_build_object('blob', repeat('x', 2000000)))");
            String expected = writer.expected("large-");
            await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
                maxRss.accumulateAndGet(tributary.rssBytes(), Math::max);
                assertEquals(expected, OutboxWriter.actual(s.primary, "large_orders", "large-"));
            });
            double seconds = (System.nanoTime() - start) / 1e9;
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals("1", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'large'"), "only the oversized row is left"));
            String dead = OutboxWriter.query(s.source, "SELECT status || ': ' || last_error FROM tributary_outbox "
                    + "WHERE business_key = 'oversized-1'");
            assertTrue(dead.matches("DEAD: record of \\d+ bytes is \\d+ bytes over the limit of 1000000 "
                    + "\\(tributary.kafka.max-record-bytes\\)"), dead);
            System.out.printf("LargeRecordsIT: %d rows of 500 KB in %.1f s (%.1f MB/s), max RSS %d MB under -Xmx512m%n",
                    ROWS, seconds, ROWS * 0.5 / seconds, maxRss.get() >> 20);
            assertTrue(maxRss.get() < 1_200L << 20, "RSS stays bounded: " + (maxRss.get() >> 20) + " MB");
        }
    }
}
