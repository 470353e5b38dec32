package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import tributary.crypto.Envelope;
import tributary.crypto.KeyRing;
import tributary.crypto.RecordCipher;
import io.quarkus.test.junit.QuarkusTest;
import tributary.spool.Spool;
import tributary.spool.SpoolFiles;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;
import tributary.testing.TributaryResource;

/**
 * Control records change outbox rows only when they are authentic: acks and dead letters anyone on the broker could
 * write change nothing, and the standby's replay never decides a row's fate.
 */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class ForgedControlTest {

    private final Servers s = Servers.get();

    private long row(String key, String status) throws Exception {
        return Long.parseLong(OutboxWriter.query(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, "
                + "payload, status) VALUES ('orders', ?, 1, '{\"x\": 1}', ?) RETURNING id", key, status));
    }

    private String status(long id) throws Exception {
        return OutboxWriter.query(s.source, "SELECT status FROM tributary_outbox WHERE id = ?", id);
    }

    private void send(String topic, String key, byte[] value, String idHeader, String reason) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.kafka.bootstrap());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, value);
            if (idHeader != null) {
                r.headers().add("tributary-id", idHeader.getBytes());
                r.headers().add("tributary-reason", reason.getBytes());
                r.headers().add("tributary-tag", "k2:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".getBytes());
            }
            producer.send(r).get();
        }
    }

    @Test
    void forgedAcksAndDeadLettersChangeNoRow() throws Exception {
        long enqueued = row("forged-1", "ENQUEUED");
        long parked = row("forged-2", "PARKED");
        // A raw id list, as acks once were, and a dead letter with a made-up tag, for rows that are still in flight.
        send("tributary.orders.acks", "orders", ByteBuffer.allocate(16).putLong(enqueued).putLong(parked).array(), null, null);
        send("tributary.orders.dlq", "forged-1", new byte[] { 1, 2, 3 }, Long.toString(enqueued), "forged");
        send("tributary.orders.dlq", "forged-2", new byte[0], Long.toString(parked), "forged");
        // A marker row after the forgeries: once it went through, the forgeries were consumed.
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) "
                + "VALUES ('orders', 'forged-marker', 1, '[1]')");
        await().atMost(Duration.ofSeconds(60)).until(() -> "DEAD".equals(OutboxWriter.query(s.source,
                "SELECT status FROM tributary_outbox WHERE business_key = 'forged-marker'")));
        Thread.sleep(2_000);
        assertEquals("ENQUEUED", status(enqueued));
        assertEquals("PARKED", status(parked));
        // Rows made by hand, never collected: removed so that no backlog reading waits on them.
        OutboxWriter.update(s.source, "DELETE FROM tributary_outbox WHERE id IN (?, ?)", enqueued, parked);
    }

    @Test
    void standbyReplayRejectsWithoutDeadLetteringARowThePrimaryHas() throws Exception {
        long done = Long.parseLong(OutboxWriter.query(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, "
                + "type, payload, status) VALUES ('payments', 'standby-poison', 'PaymentChanged', '{}', 'DONE') RETURNING id"));
        Path dir = s.dir.resolve("spool").resolve("payments").resolve("standby");
        Path segment = SpoolFiles.writeSegment(dir, 900_000_000L,
                List.of(new Spool.Entry("standby-poison", done, new byte[] { 2, 2, 'k', '2', 0, 0, 0 })));
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(segment));
        Thread.sleep(2_000);
        assertEquals("DONE", OutboxWriter.query(s.source, "SELECT status FROM payments_outbox WHERE id = ?", done));
        assertFalse(Files.exists(segment), "the standby segment was replayed and removed");
    }

    @Test
    void aSpooledRecordKafkaRefusesIsDeadAndTheRestOfItsSegmentReplays() throws Exception {
        RecordCipher cipher = new RecordCipher(new KeyRing("k2",
                Map.of("k1", TributaryResource.OLD_KEY, "k2", TributaryResource.ACTIVE_KEY)));
        String scope = RecordCipher.scope("orders", "orders");
        long good = row("refused-good", "SPOOLED");
        long huge = row("refused-huge", "SPOOLED");
        byte[] tooLarge = new byte[1_500_000];
        Path dir = s.dir.resolve("spool").resolve("orders").resolve("enqueue");
        Path segment = SpoolFiles.writeSegment(dir, 900_000_001L, List.of(
                new Spool.Entry("refused-huge", huge, tooLarge),
                new Spool.Entry("refused-good", good, cipher.seal(scope, "refused-good",
                        new Envelope(good, 1, false, Instant.now(), "{\"x\": 1}").toBytes()))));
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(segment));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertEquals(null, status(good), "replayed, synced and deleted at ack");
            assertEquals("{\"x\": 1}", OutboxWriter.query(s.primary,
                    "SELECT payload::text FROM orders WHERE business_key = 'refused-good'"));
        });
        String dead = OutboxWriter.query(s.source, "SELECT status || ': ' || last_error FROM tributary_outbox WHERE id = ?", huge);
        assertTrue(dead.startsWith("DEAD: refused by Kafka on replay: RecordTooLargeException"), dead);
    }

    @Test
    void aDeadLetterTheDlqTopicRefusesIsKeptOnDiskAndThePipelineFlowsOn() throws Exception {
        Map<String, Object> admin = Map.of("bootstrap.servers", s.kafka.bootstrap());
        ConfigResource dlq = new ConfigResource(ConfigResource.Type.TOPIC, "tributary.payments.dlq");
        long before = keptBytes();
        OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                + "VALUES ('payments', 'dlq-refused-first', 'PaymentChanged', '{}')");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "1".equals(OutboxWriter.query(s.primary,
                "SELECT count(*) FROM analytics.payments WHERE business_key = 'dlq-refused-first'")));
        try (Admin kafka = Admin.create(admin)) {
            // The dead-letter topic takes nothing over 600 bytes: the broker refuses the letter for good.
            kafka.incrementalAlterConfigs(Map.of(dlq, List.of(new AlterConfigOp(
                    new ConfigEntry("max.message.bytes", "600"), AlterConfigOp.OpType.SET)))).all().get();
            OutboxWriter.update(s.primary, "ALTER TABLE analytics.payments ADD CONSTRAINT payments_no_refusal CHECK "
                    + "(deleted OR payload->>'refuse' IS NULL) NOT VALID");
            try {
                OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                        + "VALUES ('payments', 'dlq-refused-bad', 'PaymentChanged', jsonb_build_object('refuse', "
                        + "repeat('r', 2000)))");
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("DEAD", OutboxWriter.query(
                        s.source, "SELECT status FROM payments_outbox WHERE aggregateid = 'dlq-refused-bad'")));
                OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                        + "VALUES ('payments', 'dlq-refused-after', 'PaymentChanged', '{}')");
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("1", OutboxWriter.query(s.primary,
                        "SELECT count(*) FROM analytics.payments WHERE business_key = 'dlq-refused-after'"),
                        "the pipeline flows on behind a refused dead letter"));
                assertTrue(keptBytes() > before, "kept on disk");
            } finally {
                OutboxWriter.update(s.primary, "ALTER TABLE analytics.payments DROP CONSTRAINT payments_no_refusal");
                kafka.incrementalAlterConfigs(Map.of(dlq, List.of(new AlterConfigOp(
                        new ConfigEntry("max.message.bytes", ""), AlterConfigOp.OpType.DELETE)))).all().get();
            }
        }
    }

    @Test
    void aDeadLetterTheSourceRefusesToRecordIsKeptOnDiskAndLaterOnesAreRecorded() throws Exception {
        OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                + "VALUES ('payments', 'record-refused-first', 'PaymentChanged', '{}')");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "1".equals(OutboxWriter.query(s.primary,
                "SELECT count(*) FROM analytics.payments WHERE business_key = 'record-refused-first'")));
        OutboxWriter.update(s.primary, "ALTER TABLE analytics.payments ADD CONSTRAINT payments_no_reject CHECK "
                + "(deleted OR payload->>'reject' IS NULL) NOT VALID");
        // The business database refuses to record this reason, for good (SQLState 23514 on the outbox itself).
        OutboxWriter.update(s.source, "ALTER TABLE payments_outbox ADD CONSTRAINT outbox_refuses CHECK "
                + "(last_error IS NULL OR status <> 'DEAD' OR aggregateid <> 'record-refused-bad') NOT VALID");
        long before = keptBytes();
        try {
            OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                    + "VALUES ('payments', 'record-refused-bad', 'PaymentChanged', '{\"reject\": 1}')");
            await().atMost(Duration.ofSeconds(60)).until(() -> keptBytes() > before);
            OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                    + "VALUES ('payments', 'record-refused-later', 'PaymentChanged', '{\"reject\": 2}')");
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals("DEAD", OutboxWriter.query(s.source,
                    "SELECT status FROM payments_outbox WHERE aggregateid = 'record-refused-later'"),
                    "the dead-letter consumer is not stuck behind the refused letter"));
        } finally {
            OutboxWriter.update(s.source, "ALTER TABLE payments_outbox DROP CONSTRAINT outbox_refuses");
            OutboxWriter.update(s.primary, "ALTER TABLE analytics.payments DROP CONSTRAINT payments_no_reject");
            OutboxWriter.update(s.source, "DELETE FROM payments_outbox WHERE aggregateid = 'record-refused-bad'");
        }
    }

    @Test
    void aSpooledRecordThePrimaryRefusesForItsSizeIsDeadAndTheSegmentStillReplays() throws Exception {
        RecordCipher cipher = new RecordCipher(new KeyRing("k2",
                Map.of("k1", TributaryResource.OLD_KEY, "k2", TributaryResource.ACTIVE_KEY)));
        String scope = RecordCipher.scope("payments", "analytics.payments");
        OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                + "VALUES ('payments', 'replay-first', 'PaymentChanged', '{}')");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> "1".equals(OutboxWriter.query(s.primary,
                "SELECT count(*) FROM analytics.payments WHERE business_key = 'replay-first'")));
        // An index a value can outgrow: that record fails with SQLState 54000, the others do not.
        OutboxWriter.update(s.primary, "CREATE INDEX payments_big ON analytics.payments ((payload->>'big'))");
        try {
            long good = Long.parseLong(OutboxWriter.query(s.source, "INSERT INTO payments_outbox (aggregatetype, "
                    + "aggregateid, type, payload, status) VALUES ('payments', 'replay-good', 'PaymentChanged', '{}', "
                    + "'PARKED') RETURNING id"));
            long big = Long.parseLong(OutboxWriter.query(s.source, "INSERT INTO payments_outbox (aggregatetype, "
                    + "aggregateid, type, payload, status) VALUES ('payments', 'replay-big', 'PaymentChanged', '{}', "
                    + "'PARKED') RETURNING id"));
            StringBuilder random = new StringBuilder();
            java.util.Random r = new java.util.Random(3);
            while (random.length() < 8_000) {
                random.append(Long.toHexString(r.nextLong()));
            }
            Path dir = s.dir.resolve("spool").resolve("payments").resolve("primary");
            Path segment = SpoolFiles.writeSegment(dir, 900_000_002L, List.of(
                    new Spool.Entry("replay-big", big, cipher.seal(scope, "replay-big", new Envelope(big, big, false,
                            Instant.now(), "{\"big\": \"" + random + "\"}").toBytes())),
                    new Spool.Entry("replay-good", good, cipher.seal(scope, "replay-good", new Envelope(good, good, false,
                            Instant.now(), "{\"ok\": 1}").toBytes()))));
            await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(segment));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertEquals("{\"ok\": 1}", OutboxWriter.query(s.primary,
                        "SELECT payload::text FROM analytics.payments WHERE business_key = 'replay-good'"));
                assertEquals("DEAD: rejected by the target: SQLState 54000 (PSQLException)", OutboxWriter.query(s.source,
                        "SELECT status || ': ' || last_error FROM payments_outbox WHERE id = ?", big));
            });
            assertTrue(List.of("DONE", "gone").contains(String.valueOf(OutboxWriter.query(s.source,
                    "SELECT coalesce(max(status), 'gone') FROM payments_outbox WHERE id = ?", good))));
        } finally {
            OutboxWriter.update(s.primary, "DROP INDEX analytics.payments_big");
        }
    }

    /** Bytes in the payments pipeline's local dead-letter files. */
    private long keptBytes() throws java.io.IOException {
        Path kept = s.dir.resolve("spool").resolve("payments").resolve("dead-letters");
        if (!Files.isDirectory(kept)) {
            return 0;
        }
        try (var files = Files.list(kept)) {
            return files.filter(f -> f.getFileName().toString().startsWith("seg-")).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
