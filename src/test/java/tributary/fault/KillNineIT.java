package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import tributary.testing.Changes;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Tributary itself killed with SIGKILL mid-stream and restarted, from the packaged application: expired leases are
 * reclaimed, uncommitted offsets are delivered again, and the upsert makes the repetition harmless.
 */
class KillNineIT {

    @Test
    void killedMidBatchAndRestartedLosesAndDuplicatesNothing() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.node-id", "replica-1");
        config.put("tributary.pipelines.orders.source.datasource", "source");
        config.put("tributary.pipelines.orders.source.table", "tributary_outbox");
        config.put("tributary.pipelines.orders.source.aggregate", "killed");
        config.put("tributary.pipelines.orders.target.datasource", "primary");
        config.put("tributary.pipelines.orders.target.table", "killed_orders");
        config.put("tributary.pipelines.orders.topic", "tributary.killed");
        config.put("tributary.pipelines.orders.lease", "5s");
        config.put("tributary.pipelines.orders.retention.done", "0");
        config.put("tributary.pipelines.orders.batch-size", "500");
        Path log = Path.of("target", "kill-nine", "tributary.log").toAbsolutePath();

        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, Ports.free())) {
            tributary.start();
            Load load = Load.start(writer, "killed", Changes.generate("kill-", 8_000, new Random(9)).subList(0, 20_000),
                    100, 30);
            // The target table appears with the first write: ignore "does not exist" until then.
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> Long.parseLong(OutboxWriter.query(s.primary,
                    "SELECT count(*) FROM killed_orders")) > 2_000);
            tributary.kill();
            long inFlight = Long.parseLong(OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox "
                    + "WHERE aggregate = 'killed' AND status IN ('PROCESSING', 'ENQUEUED')"));
            Thread.sleep(2_000);
            tributary.start();
            load.await();

            String expected = writer.expected("kill-");
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "killed_orders", "kill-")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("0", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'killed'"), "every row DONE (deleted at ack)"));
            assertTrue(inFlight > 0, "the kill caught rows in flight: " + inFlight);
        }
    }
}
