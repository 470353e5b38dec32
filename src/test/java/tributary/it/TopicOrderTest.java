package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import tributary.crypto.Envelope;
import tributary.crypto.KeyRing;
import tributary.crypto.RecordCipher;
import tributary.testing.Changes;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryResource;

/** With one collector, a key's records appear on its partition in version order. */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class TopicOrderTest {

    @Test
    void perKeyTopicOrderIsVersionOrder() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        List<Change> changes = Changes.generate("order-", 300, new Random(3));
        for (int i = 0; i < changes.size(); i += 50) {
            writer.tributary("orders", changes.subList(i, Math.min(changes.size(), i + 50)));
        }
        String expected = writer.expected("order-");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(expected,
                OutboxWriter.actual(s.primary, "orders", "order-")));

        RecordCipher cipher = new RecordCipher(new KeyRing("k2",
                Map.of("k1", TributaryResource.OLD_KEY, "k2", TributaryResource.ACTIVE_KEY)));
        Map<String, List<TopicReader.Record>> byKey = new TreeMap<>();
        for (TopicReader.Record r : TopicReader.readAll(s.kafka.bootstrap(), "tributary.orders", Duration.ofSeconds(3))) {
            if (r.key() != null && r.key().startsWith("order-")) {
                byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
            }
        }
        Map<String, Long> versionsPerKey = new TreeMap<>();
        changes.forEach(c -> versionsPerKey.merge(c.key(), 1L, Long::sum));
        assertEquals(versionsPerKey.keySet(), byKey.keySet());
        for (Map.Entry<String, List<TopicReader.Record>> e : byKey.entrySet()) {
            List<TopicReader.Record> records = e.getValue();
            assertEquals(1, records.stream().map(TopicReader.Record::partition).distinct().count(), "one partition per key");
            records.sort(Comparator.comparingLong(TopicReader.Record::offset));
            List<Long> versions = new ArrayList<>();
            for (TopicReader.Record r : records) {
                versions.add(Envelope.fromBytes(cipher.open(tributary.crypto.RecordCipher.scope("orders", "orders"), r.key(), r.value())).version());
            }
            List<Long> sorted = new ArrayList<>(versions);
            sorted.sort(null);
            assertEquals(sorted, versions, "versions of " + e.getKey() + " in offset order");
            assertEquals(versionsPerKey.get(e.getKey()), (long) versions.size(), "each version once for " + e.getKey());
        }
    }
}
