package tributary.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import tributary.testing.Servers;

/**
 * The consumer against a real broker: its two poll lengths (as asked while records flow and for two empty polls after
 * them, long once quiet; a quiet poll returns a record as soon as it arrives), and offsets that wait for the acks.
 */
class QuietPollConsumerTest {

    private static final Duration SHORT = Duration.ofMillis(5);
    private static final Duration QUIET = Duration.ofSeconds(4);
    /** Well under QUIET, well over any short poll or local produce-and-fetch. */
    private static final long BOUND_MS = 2_500;

    @Test
    void pollsShortWhileRecordsFlowAndLongOnceQuietAndAQuietPollReturnsARecordAtOnce() throws Exception {
        String topic = topic();
        try (KafkaProducer<String, byte[]> producer = producer(); QuietPollConsumer consumer = consumer(topic)) {
            producer.send(new ProducerRecord<>(topic, "k", new byte[] { 1 })).get(30, TimeUnit.SECONDS);
            assertEquals(1, pollUntilRecords(consumer).count(), "the first record, once the group is joined");

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

    @Test
    void commitsABatchOnceWhatItSentIsAcknowledgedInOrderAndDeliversItAgainWhenNot() throws Exception {
        String topic = topic();
        TopicPartition partition = new TopicPartition(topic, 0);
        try (KafkaProducer<String, byte[]> producer = producer(); QuietPollConsumer consumer = consumer(topic)) {
            for (int i = 0; i < 4; i++) {
                producer.send(new ProducerRecord<>(topic, "k", new byte[] { (byte) i })).get(30, TimeUnit.SECONDS);
            }
            int seen = 0;
            while (seen < 4) {
                seen += pollUntilRecords(consumer).count();
            }
            CompletableFuture<Void> firstAck = new CompletableFuture<>();
            consumer.commitWhenSent(firstAck, Map.of(partition, 0L), Map.of(partition, new OffsetAndMetadata(2)));
            consumer.commitWhenSent(CompletableFuture.completedFuture(null), Map.of(partition, 2L),
                    Map.of(partition, new OffsetAndMetadata(3)));
            consumer.poll(SHORT);
            consumer.poll(SHORT);
            assertEquals(null, consumer.committed(Set.of(partition)).get(partition),
                    "nothing committed while the first batch's ack is on its way, the second's neither");

            firstAck.complete(null);
            consumer.poll(SHORT);
            assertEquals(3, committed(consumer, partition, 3), "both batches committed once the first ack is in");

            CompletableFuture<Void> lostAck = new CompletableFuture<>();
            consumer.commitWhenSent(lostAck, Map.of(partition, 3L), Map.of(partition, new OffsetAndMetadata(4)));
            lostAck.completeExceptionally(new IllegalStateException("Kafka refused the ack"));
            ConsumerRecords<Object, Object> again = pollUntilRecords(consumer);
            assertEquals(3, again.iterator().next().offset(), "the batch whose ack failed is delivered again");
            assertEquals(3, committed(consumer, partition, 3), "and not committed");
        }
    }

    private static long committed(QuietPollConsumer consumer, TopicPartition partition, long expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long offset = -1;
        while (System.nanoTime() < deadline) {
            OffsetAndMetadata committed = consumer.committed(Set.of(partition)).get(partition);
            offset = committed == null ? -1 : committed.offset();
            if (offset == expected) {
                break;
            }
            consumer.poll(SHORT);
        }
        return offset;
    }

    private static ConsumerRecords<Object, Object> pollUntilRecords(QuietPollConsumer consumer) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        ConsumerRecords<Object, Object> records;
        do {
            records = consumer.poll(SHORT);
        } while (records.isEmpty() && System.nanoTime() < deadline);
        return records;
    }

    private static String topic() throws Exception {
        String topic = "quiet-poll-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", Servers.get().kafka.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Servers.get().kafka.bootstrap()),
                new StringSerializer(), new ByteArraySerializer());
    }

    private static QuietPollConsumer consumer(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Servers.get().kafka.bootstrap());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "quiet-poll-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        QuietPollConsumer consumer = new QuietPollConsumer(props, QUIET);
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    private static long timed(Runnable poll) {
        long start = System.nanoTime();
        poll.run();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
}
