package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import tributary.testing.Changes;
import tributary.testing.Http;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryResource;

/**
 * Faults injected for real while 20,000 rows stream through the orders pipeline, then healed. After each: every row
 * is in the primary once with its newest version, every outbox row is DONE (deleted at ack) or DEAD, spools empty.
 */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class FaultToleranceTest {

    private static final int ROWS = 20_000;
    private final Servers s = Servers.get();
    private final OutboxWriter writer = new OutboxWriter(s.source);

    private static List<Change> changes(String prefix) {
        return Changes.generate(prefix, 8_000, new Random(prefix.hashCode())).subList(0, ROWS);
    }

    private Path spool(String target) {
        return s.dir.resolve("spool").resolve("orders").resolve(target);
    }

    private static long segments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("seg-")).count();
        }
    }

    @TestHTTPResource("/q/health/ready")
    URL readiness;

    private static long quarantined(Path spool) throws IOException {
        return segments(spool.resolve("quarantine")) == 0 && !Files.isDirectory(spool.resolve("quarantine")) ? 0
                : Files.list(spool.resolve("quarantine")).count();
    }

    private long count(String sql, Object... binds) throws Exception {
        return Long.parseLong(OutboxWriter.query(s.source, sql, binds));
    }

    /** The end state every fault must heal to. */
    private void assertConverged(String prefix, long dead) throws Exception {
        String expected = writer.expected(prefix);
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertEquals(expected, OutboxWriter.actual(s.primary, "orders", prefix)));
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            assertEquals(dead, count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE ?", prefix + "%"),
                    "rows left in the outbox besides DEAD ones");
            assertEquals(dead, count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE ? AND status = 'DEAD'",
                    prefix + "%"));
            assertEquals(0, segments(spool("enqueue")), "enqueue spool drained");
            assertEquals(0, segments(spool("primary")), "primary spool drained");
            assertEquals(0, segments(spool("standby")), "standby spool drained");
        });
    }

    @Test
    void kafkaDown() throws Exception {
        Load load = Load.start(writer, "orders", changes("f-kafka-"), 100, 40);
        await().until(() -> load.written() >= 2_000);
        s.kafka.kill();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> count(
                    "SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-kafka-%' AND status = 'SPOOLED'") > 0);
            Thread.sleep(10_000);
        } finally {
            s.kafka.start();
        }
        load.await();
        assertConverged("f-kafka-", 0);
    }

    /**
     * Kafka refuses every ack (the acks topic takes no record that large) while rows stream. A batch does not wait
     * for its ack, but its offsets do: the batches written meanwhile stay uncommitted, and each comes again after
     * its ack's retries. Once Kafka takes acks again, everything heals.
     */
    @Test
    void acksRefusedKeepTheirBatchesUncommitted() throws Exception {
        String bootstrap = s.kafka.bootstrap();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(
                TopicReader.endOffsets(bootstrap, "tributary.orders"),
                TopicReader.committedOffsets(bootstrap, "tributary-orders", "tributary.orders")));
        long committedBefore = TopicReader.committedOffsets(bootstrap, "tributary-orders", "tributary.orders");
        ConfigResource acks = new ConfigResource(ConfigResource.Type.TOPIC, "tributary.orders.acks");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(acks, List.of(new AlterConfigOp(
                    new ConfigEntry("max.message.bytes", "16"), AlterConfigOp.OpType.SET)))).all().get();
            try {
                Load load = Load.start(writer, "orders", changes("f-acks-"), 100, 40);
                await().atMost(Duration.ofSeconds(60)).until(() -> Long.parseLong(OutboxWriter.query(s.primary,
                        "SELECT count(*) FROM orders WHERE business_key LIKE 'f-acks-%'")) > 0);
                Thread.sleep(5_000);
                assertTrue(TopicReader.endOffsets(bootstrap, "tributary.orders") > committedBefore, "batches came");
                assertEquals(committedBefore, TopicReader.committedOffsets(bootstrap, "tributary-orders",
                        "tributary.orders"), "no batch committed while its ack is refused");
                assertTrue(count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-acks-%'") > 0,
                        "rows wait for their acks");
                load.await();
            } finally {
                admin.incrementalAlterConfigs(Map.of(acks, List.of(new AlterConfigOp(
                        new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE)))).all().get();
            }
        }
        assertConverged("f-acks-", 0);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(
                TopicReader.endOffsets(bootstrap, "tributary.orders"),
                TopicReader.committedOffsets(bootstrap, "tributary-orders", "tributary.orders")));
    }

    @Test
    void primaryDown() throws Exception {
        Load load = Load.start(writer, "orders", changes("f-primary-"), 100, 40);
        await().until(() -> load.written() >= 2_000);
        s.primary.stop();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> segments(spool("primary")) > 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Long.parseLong(OutboxWriter.query(s.standby,
                    "SELECT count(*) FROM orders WHERE business_key LIKE 'f-primary-%'")) > 0);
            Thread.sleep(5_000);
        } finally {
            s.primary.start();
        }
        load.await();
        assertConverged("f-primary-", 0);
        assertTrue(Long.parseLong(OutboxWriter.query(s.standby,
                "SELECT count(*) FROM orders WHERE business_key LIKE 'f-primary-%'")) > 0, "the standby took the outage");
    }

    @Test
    void primaryAndStandbyDown() throws Exception {
        Load load = Load.start(writer, "orders", changes("f-both-"), 100, 40);
        await().until(() -> load.written() >= 2_000);
        s.primary.stop();
        s.standby.stop();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> segments(spool("primary")) > 2);
            Thread.sleep(5_000);
        } finally {
            s.standby.start();
            s.primary.start();
        }
        load.await();
        assertConverged("f-both-", 0);
        // What the standby could not take during the outage was spooled for it and replayed once it was back.
        assertTrue(Long.parseLong(OutboxWriter.query(s.standby,
                "SELECT count(*) FROM orders WHERE business_key LIKE 'f-both-%'")) > 0, "the standby spool was replayed");
    }

    @Test
    void spoolUnwritableWhileKafkaDown() throws Exception {
        Path dir = spool("enqueue");
        Path aside = dir.resolveSibling("enqueue-aside");
        Load load = Load.start(writer, "orders", changes("f-disk-"), 100, 40);
        await().until(() -> load.written() >= 2_000);
        Files.move(dir, aside);
        Files.writeString(dir, "not a directory: the spool cannot be written");
        s.kafka.kill();
        try {
            // Neither Kafka nor the spool can take data: collect stops claiming, rows wait PENDING, untouched, and
            // readiness says why. A long outage must not burn the rows' attempts.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                String ready = Http.get(readiness.toString()).body();
                assertTrue(ready.contains("PAUSED: Kafka is DOWN and the enqueue spool cannot take writes"), ready);
            });
            Thread.sleep(8_000);
            assertEquals(0, count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-disk-%' "
                    + "AND status IN ('FAILED', 'DEAD')"), "an infrastructure fault is no record's fault");
            assertEquals(0, count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-disk-%' "
                    + "AND status = 'PENDING' AND attempts > 0"), "claims handed back count no attempt");
            assertTrue(count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-disk-%' "
                    + "AND status = 'PENDING'") > 0, "rows wait in the outbox");
        } finally {
            Files.delete(dir);
            Files.move(aside, dir);
            s.kafka.start();
        }
        load.await();
        assertConverged("f-disk-", 0);
    }

    @Test
    void onePercentPoison() throws Exception {
        Load load = Load.start(writer, "orders", changes("f-poison-"), 100, 10);
        // 1% poison, written like business rows but not into the expected state: arrays and missing payloads.
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, operation, payload) "
                + "SELECT 'orders', 'f-poison-bad-' || g, 1, 'UPSERT', CASE WHEN g % 2 = 0 THEN '[1]'::jsonb END "
                + "FROM generate_series(1, 200) g");
        load.await();
        assertConverged("f-poison-", 200);
        assertEquals(200, count("SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'f-poison-bad-%' "
                + "AND status = 'DEAD' AND last_error IN ('payload is not a JSON object', 'payload is missing for an upsert')"));
    }

    @Test
    void tornSpoolSegmentBeforeReplay() throws Exception {
        Path dir = spool("enqueue");
        // Files earlier tests may have left count for nothing: only new ones prove this test's quarantine.
        long before = quarantined(dir);
        s.kafka.kill();
        try {
            Load load = Load.start(writer, "orders", changes("f-torn-"), 500, 10);
            load.await();
            await().atMost(Duration.ofSeconds(120)).until(() -> count("SELECT count(*) FROM tributary_outbox WHERE "
                    + "business_key LIKE 'f-torn-%' AND status = 'SPOOLED'") == ROWS);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                try (Stream<Path> files = Files.list(dir)) {
                    return files.noneMatch(p -> p.toString().endsWith(".open"));
                }
            });
            Path last;
            try (Stream<Path> files = Files.list(dir)) {
                last = files.filter(p -> p.toString().endsWith(".seg")).sorted().reduce((a, b) -> b).orElseThrow();
            }
            try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 7); // cut into the last record
            }
        } finally {
            s.kafka.start();
        }
        assertConverged("f-torn-", 0);
        assertTrue(quarantined(dir) > before, "the torn record is quarantined, not silently dropped");
    }
}
