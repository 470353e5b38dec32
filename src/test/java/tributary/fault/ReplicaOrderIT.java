package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import tributary.crypto.Envelope;
import tributary.crypto.KeyRing;
import tributary.crypto.RecordCipher;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryProcess;

/**
 * Two replicas from the packaged application collect one outbox of frequently updated keys into a three-partition
 * topic; one is killed with SIGKILL mid-stream and restarted. Each key's versions reach the topic in order (a
 * version delivered again after the crash may repeat, but no version first appears after a newer one), and the
 * target ends with every key's last version.
 */
class ReplicaOrderIT {

    private static final int KEYS = 200;
    private static final int VERSIONS = 60;

    /** Every key updated VERSIONS times, the keys' updates interleaved at random as concurrent transactions would. */
    private static List<Change> hotKeys(Random random) {
        List<Change> out = new ArrayList<>();
        int[] next = new int[KEYS];
        List<Integer> open = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
            open.add(k);
        }
        while (!open.isEmpty()) {
            int pick = random.nextInt(open.size());
            int k = open.get(pick);
            int v = ++next[k];
            out.add(new Change("hot-" + k, v, false, "{\"key\": " + k + ", \"v\": " + v + "}"));
            if (v == VERSIONS) {
                open.remove(pick);
            }
        }
        return out;
    }

    private static Map<String, String> config(Servers s, String node, String key) {
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.node-id", node);
        if (key != null) {
            c.put("tributary.crypto.keys.k1", key);
        }
        String p = "tributary.pipelines.relay.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.table", "tributary_outbox");
        c.put(p + "source.aggregate", "relay");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "relay_orders");
        c.put(p + "topic", "tributary.relay");
        c.put(p + "lease", "5s");
        c.put(p + "batch-size", "200");
        return c;
    }

    @Test
    void twoReplicasAndAKillKeepEachKeysVersionsInOrderOnTheTopic() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        OutboxWriter.createOutbox(s.source);
        Map<String, String> a = config(s, "relay-a", null);
        Map<String, String> b = config(s, "relay-b", a.get("tributary.crypto.keys.k1"));
        Path dir = Path.of("target", "replica-order").toAbsolutePath();
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("a.log"));
        Files.deleteIfExists(dir.resolve("b.log"));
        try (TributaryProcess first = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("a.log"), a,
                Ports.free()); TributaryProcess second = new TributaryProcess(TributaryProcess.defaultJar(),
                        dir.resolve("b.log"), b, Ports.free())) {
            first.start();
            second.start();
            List<Change> changes = hotKeys(new Random(11));
            Load load = Load.start(writer, "relay", changes, 40, 15);
            await().atMost(Duration.ofSeconds(90)).until(() -> Long.parseLong(OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'relay' AND status = 'DONE'")) > 3_000);
            first.kill();
            Thread.sleep(2_000);
            first.start();
            load.await();

            String expected = writer.expected("hot-");
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "relay_orders", "hot-")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("0", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'relay' AND status <> 'DONE'")));

            // Both replicas claimed; the survivor took the killed one's slices over, and gave them back.
            String logB = Files.readString(dir.resolve("b.log"));
            assertTrue(logB.contains("owns 8 of 16 key slices (2 replica(s))"), "the replicas shared the slices");
            assertTrue(logB.contains("of 16 key slices (1 replica(s))"), "the survivor took the slices over");

            RecordCipher cipher = new RecordCipher(new KeyRing("k1", Map.of("k1", a.get("tributary.crypto.keys.k1"))));
            String scope = RecordCipher.scope("relay", "relay_orders");
            Map<String, Long> newest = new HashMap<>();
            Map<String, Set<Long>> seen = new HashMap<>();
            int records = 0;
            int repeats = 0;
            for (TopicReader.Record r : TopicReader.readAll(s.kafka.bootstrap(), "tributary.relay", Duration.ofSeconds(3))) {
                long version = Envelope.fromBytes(cipher.open(scope, r.key(), r.value())).version();
                records++;
                Set<Long> versions = seen.computeIfAbsent(r.key(), k -> new HashSet<>());
                long before = newest.getOrDefault(r.key(), 0L);
                if (version < before) {
                    assertTrue(versions.contains(version), r.key() + ": version " + version + " first appeared after "
                            + "version " + before + " (partition " + r.partition() + ", offset " + r.offset() + ")");
                    repeats++;
                }
                versions.add(version);
                newest.put(r.key(), Math.max(before, version));
            }
            assertEquals(KEYS, seen.size());
            for (Map.Entry<String, Set<Long>> e : seen.entrySet()) {
                assertEquals(VERSIONS, e.getValue().size(), "every version of " + e.getKey() + " on the topic");
            }
            System.out.printf("replica order: %d records, %d repeated after the kill%n", records, repeats);
        }
    }
}
