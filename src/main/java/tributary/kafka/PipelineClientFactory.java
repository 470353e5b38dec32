package tributary.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.camel.component.kafka.DefaultKafkaClientFactory;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Camel's Kafka client factory, with two changes. A new producer learns the pipeline topics' metadata before its first
 * send: the producers never block for metadata (max.block.ms=0, see KafkaUris), so without this the first batch after
 * a start fails at once ("not present in metadata") and takes the spool although Kafka is fine. A consumer waits long
 * while its topics are quiet ({@link QuietPollConsumer}), so idle pipelines do not wake Tributary hundreds of times a
 * second.
 */
final class PipelineClientFactory extends DefaultKafkaClientFactory {

    private static final Logger LOG = Logger.getLogger(PipelineClientFactory.class);
    private static final long WAIT_MS = 5_000;
    /** As long as a broker holds an empty fetch by default (fetch.max.wait.ms). */
    static final Duration QUIET_WAIT = Duration.ofMillis(500);

    private final List<String> topics;
    private final BooleanSupplier kafkaReady;

    /** {@code kafkaReady}: whether start-up found the topics ready; when not, a producer starts without waiting. */
    PipelineClientFactory(List<String> topics, BooleanSupplier kafkaReady) {
        this.topics = List.copyOf(topics);
        this.kafkaReady = kafkaReady;
    }

    @Override
    public Producer getProducer(Properties kafkaProps) {
        Producer producer = super.getProducer(kafkaProps);
        if (kafkaReady.getAsBoolean()) {
            warm(producer, topics, WAIT_MS);
        }
        return producer;
    }

    @Override
    public Consumer getConsumer(Properties kafkaProps) {
        return new QuietPollConsumer(kafkaProps, QUIET_WAIT);
    }

    /** Asks for each topic until the producer knows it, for at most {@code waitMs} in all; true when it knows all. */
    static boolean warm(Producer<?, ?> producer, List<String> topics, long waitMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        try {
            for (String topic : topics) {
                while (true) {
                    try {
                        // Without the metadata this fails at once (max.block.ms=0) but has the producer fetch it.
                        producer.partitionsFor(topic);
                        break;
                    } catch (TimeoutException notYet) {
                        if (System.nanoTime() > deadline) {
                            LOG.warnf("a Kafka producer has no metadata for %s after %d ms; its first batch may take "
                                    + "the spool", topic, waitMs);
                            return false;
                        }
                        Thread.sleep(20);
                    }
                }
            }
            return true;
        } catch (KafkaException e) {
            // Kafka refused or failed: the send path and the probe deal with it.
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
