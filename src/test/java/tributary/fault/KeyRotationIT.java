package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import tributary.testing.Changes;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;
import tributary.testing.TributaryResource;

/**
 * A rolling key rotation with two replicas: one already seals with a new key while the other does not hold it yet.
 * The lagging replica holds those records back (readiness DOWN naming the key id), dead-letters nothing, and once it
 * is rolled to the new configuration every row arrives.
 */
class KeyRotationIT {

    private final Servers s = Servers.get();

    @Test
    void aReplicaWithoutTheNewKeyHoldsRecordsBackInsteadOfDeadLetteringThem() throws Exception {
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        String oldKey = TributaryResource.randomKey();
        String newKey = TributaryResource.randomKey();
        Map<String, String> common = TributaryProcess.baseConfig(s);
        String p = "tributary.pipelines.rotate.";
        common.put(p + "source.datasource", "source");
        common.put(p + "source.aggregate", "rotate");
        common.put(p + "target.datasource", "primary");
        common.put(p + "target.table", "rotate_orders");
        common.put(p + "topic", "tributary.rotate");
        common.put(p + "lease", "5s");
        common.put(p + "retention.done", "1h");
        common.put("tributary.health.interval", "300ms");
        common.remove("tributary.crypto.keys.k1");

        // Replica A still on the old configuration: only k1.
        Map<String, String> oldConfig = new TreeMap<>(common);
        oldConfig.put("tributary.node-id", "rotate-a");
        oldConfig.put("tributary.spool.dir", Files.createTempDirectory(s.dir, "rotate-a").toString());
        oldConfig.put("tributary.crypto.active-key", "k1");
        oldConfig.put("tributary.crypto.keys.k1", oldKey);
        // Replica B rolled out with the new key already active: the mistake the two-step rotation avoids.
        Map<String, String> newConfig = new TreeMap<>(common);
        newConfig.put("tributary.node-id", "rotate-b");
        newConfig.put("tributary.spool.dir", Files.createTempDirectory(s.dir, "rotate-b").toString());
        newConfig.put("tributary.crypto.active-key", "k2");
        newConfig.put("tributary.crypto.keys.k1", oldKey);
        newConfig.put("tributary.crypto.keys.k2", newKey);

        int portA = Ports.free();
        Path logA = Path.of("target", "key-rotation", "a.log").toAbsolutePath();
        try (TributaryProcess a = new TributaryProcess(TributaryProcess.defaultJar(), logA, oldConfig, portA).start();
                TributaryProcess b = new TributaryProcess(TributaryProcess.defaultJar(),
                        Path.of("target", "key-rotation", "b.log").toAbsolutePath(), newConfig, Ports.free()).start()) {
            Load load = Load.start(writer, "rotate", Changes.generate("rotate-", 2_000, new Random(11)).subList(0, 4_000),
                    100, 50);
            await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                HttpResponse<String> ready = a.health("ready");
                assertEquals(503, ready.statusCode(), ready.body());
                assertTrue(ready.body().contains("\"crypto.missing-keys\": \"k2\""), ready.body());
            });
            load.await();
            Thread.sleep(3_000);
            assertEquals("0", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'rotate' AND status = 'DEAD'"),
                    "a key this replica lacks is a configuration matter, never a reason to dead-letter");

            // Step two of the rotation reaches A: it now holds k2 as well.
            a.stop();
            Map<String, String> rolled = new TreeMap<>(oldConfig);
            rolled.put("tributary.crypto.keys.k2", newKey);
            try (TributaryProcess rolledA = new TributaryProcess(TributaryProcess.defaultJar(), logA, rolled, portA).start()) {
                String expected = writer.expected("rotate-");
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                        assertEquals(expected, OutboxWriter.actual(s.primary, "rotate_orders", "rotate-")));
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("0", OutboxWriter.query(s.source,
                        "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'rotate' AND status NOT IN ('DONE')")));
                assertEquals(200, rolledA.health("ready").statusCode());
            }
        }
    }
}
