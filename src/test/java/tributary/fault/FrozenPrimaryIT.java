package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import tributary.testing.Changes;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * The analytics primary stops answering mid-stream without closing a connection (every server process SIGSTOPped,
 * as a hung host or a network that drops packets): the socket and probe timeouts fail it over to the standby and
 * the primary spool; once it answers again the spool replays and the primary converges on the source.
 */
class FrozenPrimaryIT {

    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(5);

    @Test
    void aPrimaryThatStopsAnsweringFailsOverWithinTheTimeoutAndConverges() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.pipelines.frozen.source.datasource", "source");
        config.put("tributary.pipelines.frozen.source.aggregate", "frozen");
        config.put("tributary.pipelines.frozen.target.datasource", "primary");
        config.put("tributary.pipelines.frozen.target.standby", "standby");
        config.put("tributary.pipelines.frozen.target.table", "frozen_orders");
        config.put("tributary.pipelines.frozen.topic", "tributary.frozen");
        config.put("tributary.pipelines.frozen.retention.done", "0");
        config.put("tributary.pipelines.frozen.batch-size", "200");
        config.put("tributary.datasources.primary.socket-timeout", SOCKET_TIMEOUT.toSeconds() + "s");
        config.put("tributary.datasources.primary.statement-timeout", "4s");
        config.put("tributary.health.probe-timeout", "2s");
        Path primarySpool = Path.of(config.get("tributary.spool.dir"), "frozen", "primary");
        Path log = Path.of("target", "frozen-primary", "tributary.log").toAbsolutePath();

        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, Ports.free())) {
            tributary.start();
            Load load = Load.start(writer, "frozen", Changes.generate("frz-", 8_000, new Random(17)).subList(0, 20_000),
                    50, 40);
            // The target table appears with the first write: ignore "does not exist" until then.
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> Long.parseLong(OutboxWriter.query(s.primary,
                    "SELECT count(*) FROM frozen_orders")) > 1_000);
            long frozenAt = System.nanoTime();
            try {
                s.primary.freeze();
                // A write caught by the freeze gives up after the socket timeout; the probe takes the primary out
                // sooner. Either way the standby takes batches within the socket timeout plus a batch or two.
                await().atMost(SOCKET_TIMEOUT.plusSeconds(15)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                        .until(() -> Long.parseLong(OutboxWriter.query(s.standby,
                                "SELECT count(*) FROM frozen_orders WHERE business_key LIKE 'frz-%'")) > 0);
                Duration failover = Duration.ofNanos(System.nanoTime() - frozenAt);
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                        .until(() -> segments(primarySpool) > 0);
                assertTrue(load.written() < 20_000, "the freeze caught the stream mid-way, failover after " + failover);
                Thread.sleep(5_000); // keep streaming into the spool a while
            } finally {
                s.primary.thaw(); // the servers are shared by every test in this JVM
            }
            load.await();

            String expected = writer.expected("frz-");
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "frozen_orders", "frz-")));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'frozen'"),
                        "every row DONE (deleted at ack)");
                assertEquals(0, segments(primarySpool), "primary spool drained");
            });
            assertTrue(tributary.alive());
        }
    }

    private static long segments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("seg-")).count();
        }
    }
}
