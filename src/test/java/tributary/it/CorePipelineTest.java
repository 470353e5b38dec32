package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import tributary.testing.Changes;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryResource;

/** The whole pipeline against real PostgreSQL and Kafka: outbox → Kafka (sealed) → primary → acks. */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class CorePipelineTest {



    @Test
    void tenThousandRowsAcrossTwoPipelinesArriveOnceWithTheNewestVersion() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        Random random = new Random(42);

        List<Change> orders = Changes.generate("core-o-", 2_500, random);
        List<Change> payments = Changes.generate("core-p-", 1_700, random);
        assertTrue(orders.size() + payments.size() >= 10_000, "at least 10,000 rows: " + (orders.size() + payments.size()));
        for (int i = 0; i < Math.max(orders.size(), payments.size()); i += 250) {
            if (i < orders.size()) {
                writer.tributary("orders", orders.subList(i, Math.min(orders.size(), i + 250)));
            }
            if (i < payments.size()) {
                writer.debezium("payments", payments.subList(i, Math.min(payments.size(), i + 250)));
            }
        }

        String expectedOrders = writer.expected("core-o-");
        String expectedPayments = writer.expected("core-p-");
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertEquals(expectedOrders, OutboxWriter.actual(s.primary, "orders", "core-o-"));
            assertEquals(expectedPayments, OutboxWriter.actual(s.primary, "analytics.payments", "core-p-"));
        });

        // Every outbox row ends DONE: orders deletes DONE rows at ack, payments keeps them for 5 s.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertEquals("0", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'core-o-%'"));
            assertEquals("0", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM payments_outbox WHERE aggregateid LIKE 'core-p-%' AND status <> 'DONE'"));
        });
        // Deletes left tombstones, hidden by the live view.
        String tombstones = OutboxWriter.query(s.primary,
                "SELECT count(*) FROM orders WHERE deleted AND business_key LIKE 'core-o-%'");
        assertTrue(Long.parseLong(tombstones) > 0, "the data set has deletes");
        assertEquals("0", OutboxWriter.query(s.primary,
                "SELECT count(*) FROM orders_live WHERE business_key IN (SELECT business_key FROM orders WHERE deleted)"));

        // Offsets are committed once the batches are written: nothing is left to redeliver.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(
                TopicReader.endOffsets(s.kafka.bootstrap(), "tributary.orders"),
                TopicReader.committedOffsets(s.kafka.bootstrap(), "tributary-orders", "tributary.orders")));

        // Nothing on the topics is plaintext: payloads carry a marker that must not appear in any record value.
        List<TopicReader.Record> records = TopicReader.readAll(s.kafka.bootstrap(), "tributary.orders", Duration.ofSeconds(10));
        assertTrue(records.size() >= orders.size(), "topic holds the orders records: " + records.size());
        byte[] marker = Changes.MARKER.getBytes(StandardCharsets.UTF_8);
        for (TopicReader.Record r : records) {
            assertFalse(TopicReader.contains(r.value(), marker), "plaintext found on Kafka for key " + r.key());
            assertFalse(TopicReader.contains(r.value(), "amount".getBytes(StandardCharsets.UTF_8)));
        }
    }
}
