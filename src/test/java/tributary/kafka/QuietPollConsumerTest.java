package tributary.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import tributary.testing.Servers;

/**
 * The consumer's two poll lengths, against a real broker: as asked while records flow and for two empty polls after
 * them, long once quiet; and a quiet poll returns a record as soon as it arrives.
 */
class QuietPollConsumerTest {

    private static final Duration SHORT = Duration.ofMillis(5);
    private static final Duration QUIET = Duration.ofSeconds(4);
    /** Well under QUIET, well over any short poll or local produce-and-fetch. */
    private static final long BOUND_MS = 2_500;

    @Test
    void pollsShortWhileRecordsFlowAndLongOnceQuietAndAQuietPollReturnsARecordAtOnce() throws Exception {
        String bootstrap = Servers.get().kafka.bootstrap();
        String topic = "quiet-poll-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "quiet-poll-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringSerializer(), new ByteArraySerializer());
                QuietPollConsumer consumer = new QuietPollConsumer(props, QUIET)) {
            producer.send(new ProducerRecord<>(topic, "k", new byte[] { 1 })).get(30, TimeUnit.SECONDS);
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            ConsumerRecords<Object, Object> first;
            do {
                first = consumer.poll(SHORT);
            } while (first.isEmpty() && System.nanoTime() < deadline);
            assertEquals(1, first.count(), "the first record, once the group is joined");

            // After records: two polls as asked, each returning nothing at about 5 ms.
            for (int i = 0; i < QuietPollConsumer.EMPTY_BEFORE_QUIET; i++) {
                long took = timed(() -> assertTrue(consumer.poll(SHORT).isEmpty()));
                assertTrue(took < BOUND_MS, "poll " + (i + 1) + " after records waits as asked, took " + took + " ms");
            }
            // Quiet now: an empty poll waits the quiet wait, not 5 ms.
            long quiet = timed(() -> assertTrue(consumer.poll(SHORT).isEmpty()));
            assertTrue(quiet >= QUIET.toMillis() - 100, "a quiet poll waits long, took " + quiet + " ms");

            // A record arriving during a quiet poll comes back at once, not at the end of the wait.
            CompletableFuture<Void> later = CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(200);
                    producer.send(new ProducerRecord<>(topic, "k", new byte[] { 2 })).get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            ConsumerRecords<Object, Object>[] got = new ConsumerRecords[1];
            long arrived = timed(() -> got[0] = consumer.poll(SHORT));
            later.get(30, TimeUnit.SECONDS);
            assertEquals(1, got[0].count());
            assertEquals(2, ((byte[]) got[0].iterator().next().value())[0]);
            assertTrue(arrived < BOUND_MS, "the quiet poll returned the record when it came, took " + arrived + " ms");

            // And polls are short again right after it.
            long after = timed(() -> assertTrue(consumer.poll(SHORT).isEmpty()));
            assertTrue(after < BOUND_MS, "a poll right after records waits as asked, took " + after + " ms");
        }
    }

    private static long timed(Runnable poll) {
        long start = System.nanoTime();
        poll.run();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
