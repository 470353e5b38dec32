package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import tributary.crypto.Envelope;
import tributary.crypto.KeyRing;
import tributary.crypto.RecordCipher;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryResource;

/** Poison never blocks a pipeline: it ends DEAD with its reason and on the dlq topic, and the rest flows on. */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class PoisonTest {

    private static final String ORDERS = RecordCipher.scope("orders", "orders");
    private final Servers s = Servers.get();
    private final RecordCipher cipher = new RecordCipher(new KeyRing("k2",
            Map.of("k1", TributaryResource.OLD_KEY, "k2", TributaryResource.ACTIVE_KEY)));

    /** An outbox row that is already ENQUEUED, as if collect had sent it; returns its id. */
    private long enqueuedRow(String key) throws Exception {
        return Long.parseLong(OutboxWriter.query(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, "
                + "payload, status) VALUES ('orders', ?, 1, '{\"x\": 1}', 'ENQUEUED') RETURNING id", key));
    }

    private void send(String key, long id, byte[] value) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.kafka.bootstrap());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>("tributary.orders", key, value);
            r.headers().add("tributary-id", Long.toString(id).getBytes());
            producer.send(r).get();
        }
    }

    private String status(long id) throws Exception {
        return OutboxWriter.query(s.source, "SELECT status || ': ' || coalesce(last_error, '') FROM tributary_outbox WHERE id = ?", id);
    }

    @Test
    void tamperedAndMovedRecordsAreRejectedNotWritten() throws Exception {
        long tamperedId = enqueuedRow("poison-tampered");
        byte[] sealed = cipher.seal(ORDERS, "poison-tampered",
                new Envelope(tamperedId, 1, false, Instant.now(), "{\"x\": 1}").toBytes());
        sealed[sealed.length - 5] ^= 0x40;
        send("poison-tampered", tamperedId, sealed);

        long movedId = enqueuedRow("poison-moved");
        send("poison-moved", movedId, cipher.seal(ORDERS, "some-other-key",
                new Envelope(movedId, 1, false, Instant.now(), "{\"x\": 2}").toBytes()));

        long goodId = enqueuedRow("poison-good");
        send("poison-good", goodId, cipher.seal(ORDERS, "poison-good",
                new Envelope(goodId, 1, false, Instant.now(), "{\"x\": 3}").toBytes()));

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertNull(status(goodId), "the good record was acked and its row deleted at ack"));
        // A record that does not open proves nothing about the row its clear id header names: the dead letter goes
        // to the dlq for operators, the row is untouched, and the ack timeout publishes it again from the outbox.
        assertEquals("ENQUEUED: ", status(tamperedId));
        assertEquals("ENQUEUED: ", status(movedId));
        // These rows were never collected (inserted ENQUEUED by hand): remove them so no backlog reading waits on them.
        OutboxWriter.update(s.source, "DELETE FROM tributary_outbox WHERE id IN (?, ?)", tamperedId, movedId);
        assertEquals("0", OutboxWriter.query(s.primary,
                "SELECT count(*) FROM orders WHERE business_key IN ('poison-tampered', 'poison-moved')"));
        assertEquals("{\"x\": 3}", OutboxWriter.query(s.primary, "SELECT payload::text FROM orders WHERE business_key = 'poison-good'"));

        List<TopicReader.Record> dlq = TopicReader.readAll(s.kafka.bootstrap(), "tributary.orders.dlq", Duration.ofSeconds(3));
        assertTrue(dlq.stream().anyMatch(r -> "poison-tampered".equals(r.key())
                && Long.toString(tamperedId).equals(r.headers().get("tributary-id"))
                && r.headers().get("tributary-reason").contains("authentication")
                && !r.headers().containsKey("tributary-tag")), "untagged dead letter with reason on the dlq topic");
    }

    @Test
    void recordsBreakingCleanRulesGoDeadAndTheBatchFlowsOn() throws Exception {
        new OutboxWriter(s.source);
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, operation, payload) "
                + "SELECT 'orders', 'clean-' || g, 1, 'UPSERT', CASE WHEN g % 100 = 0 THEN NULL WHEN g % 100 = 50 "
                + "THEN '[1, 2]'::jsonb ELSE jsonb_build_object('g', g) END FROM generate_series(1, 1000) g");
        // An operation that is neither an upsert nor a delete, and a NULL version, are DEAD with their reasons.
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, operation, payload) "
                + "VALUES ('orders', 'badop-merge', 1, 'MERGE', '{}')");
        OutboxWriter.update(s.source, "ALTER TABLE tributary_outbox ALTER COLUMN version DROP NOT NULL");
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, operation, payload) "
                + "VALUES ('orders', 'badop-noversion', NULL, 'DELETE', NULL)");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("980", OutboxWriter.query(s.primary,
                "SELECT count(*) FROM orders_live WHERE business_key LIKE 'clean-%'")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertEquals("20", OutboxWriter.query(s.source,
                    "SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'clean-%' AND status = 'DEAD'"));
            assertEquals("20", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE "
                    + "business_key LIKE 'clean-%'"), "only the DEAD rows remain; DONE ones were deleted at ack");
        });
        assertEquals("payload is missing for an upsert", OutboxWriter.query(s.source,
                "SELECT last_error FROM tributary_outbox WHERE business_key = 'clean-100'"));
        assertEquals("payload is not a JSON object", OutboxWriter.query(s.source,
                "SELECT last_error FROM tributary_outbox WHERE business_key = 'clean-50'"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertEquals("DEAD: operation 'MERGE' is neither an upsert value [UPSERT] nor a delete value [DELETE, DELETED]",
                    OutboxWriter.query(s.source, "SELECT status || ': ' || last_error FROM tributary_outbox "
                            + "WHERE business_key = 'badop-merge'"));
            assertEquals("DEAD: version is missing", OutboxWriter.query(s.source, "SELECT status || ': ' || last_error "
                    + "FROM tributary_outbox WHERE business_key = 'badop-noversion'"));
        });
        assertEquals("0", OutboxWriter.query(s.primary, "SELECT count(*) FROM orders WHERE business_key LIKE 'badop-merge'"));
    }

    @Test
    void aRecordTheTargetRejectsIsDeadWithItsSqlStateAndNoPayloadInTheReason() throws Exception {
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) "
                + "VALUES ('orders', 'check-first', 1, '{}')");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "1".equals(OutboxWriter.query(s.primary,
                "SELECT count(*) FROM orders WHERE business_key = 'check-first'")));
        // The analytics side forbids negative amounts: SQLState 23514 for that record only.
        OutboxWriter.update(s.primary, "ALTER TABLE orders ADD CONSTRAINT orders_amount_not_negative CHECK "
                + "(deleted OR payload->>'amount' IS NULL OR (payload->>'amount')::numeric >= 0) NOT VALID");
        try {
            OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) "
                    + "SELECT 'orders', 'check-' || g, 1, jsonb_build_object('amount', CASE WHEN g = 7 THEN -1 ELSE g END, "
                    + "'note', 'MARKER-7f3a-' || g) FROM generate_series(1, 20) g");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                assertEquals("19", OutboxWriter.query(s.primary, "SELECT count(*) FROM orders_live WHERE business_key ~ '^check-[0-9]+$'"));
                assertEquals("DEAD: rejected by the target: SQLState 23514 (PSQLException)", status(Long.parseLong(
                        OutboxWriter.query(s.source, "SELECT id FROM tributary_outbox WHERE business_key = 'check-7'"))));
            });
            List<TopicReader.Record> dlq = TopicReader.readAll(s.kafka.bootstrap(), "tributary.orders.dlq", Duration.ofSeconds(3));
            TopicReader.Record letter = dlq.stream().filter(r -> "check-7".equals(r.key())).findFirst().orElseThrow();
            assertFalse(letter.headers().values().stream().anyMatch(v -> v.contains("MARKER")), letter.headers().toString());
            assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE last_error LIKE '%MARKER%'"));
            // Tributary's lines only: the embedded servers of the test JVM log into the same file, and PostgreSQL's
            // own error detail quotes the failing row.
            List<String> log = java.nio.file.Files.readAllLines(TributaryResource.LOG).stream()
                    .filter(line -> !line.contains("EmbeddedPostgres")).toList();
            assertTrue(log.stream().anyMatch(line -> line.contains("rejected by the target for their data")),
                    "the rejection was logged");
            assertFalse(log.stream().anyMatch(line -> line.contains("MARKER-7f3a")), "no payload data in Tributary's log");
        } finally {
            OutboxWriter.update(s.primary, "ALTER TABLE orders DROP CONSTRAINT orders_amount_not_negative");
        }
    }
}
