package tributary.kafka;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import tributary.config.TributaryConfig;

/**
 * The one place Kafka client settings are put together: the pass-through {@code tributary.kafka.client.*} (security,
 * TLS, tuning) for Camel's producers and consumers and for every admin client, checked at start-up. Values can be
 * secrets, so this class never prints them.
 */
@Singleton
public final class KafkaClients {

    public static final String PREFIX = "tributary.kafka.client.";

    private static final String SEALED = "records carry string keys and sealed byte values";
    private static final String GROUPS = "consumer groups are per pipeline: tributary-<p>, -acks, -dlq";
    private static final String ORDER = "durability and per-key order depend on it";

    /** Settings Tributary makes itself, with the reason (or the key to use instead). */
    static final Map<String, String> OWNED = Map.ofEntries(
            Map.entry(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "use tributary.kafka.brokers"),
            Map.entry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, SEALED),
            Map.entry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, SEALED),
            Map.entry(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, SEALED),
            Map.entry(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, SEALED),
            Map.entry(ConsumerConfig.GROUP_ID_CONFIG, GROUPS),
            Map.entry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, GROUPS),
            Map.entry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "offsets are committed after the sink committed"),
            Map.entry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "a new consumer group must start at the earliest record"),
            Map.entry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "use tributary.pipelines.<p>.batch-size"),
            Map.entry(ProducerConfig.ACKS_CONFIG, ORDER),
            Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ORDER),
            Map.entry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, ORDER),
            Map.entry(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "the producers are idempotent, not transactional"),
            Map.entry(ProducerConfig.LINGER_MS_CONFIG, "use tributary.kafka.linger-ms"),
            Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, "fail-over to the spool depends on it"),
            Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "fail-over to the spool depends on it"),
            Map.entry(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "fail-over to the spool depends on it"),
            Map.entry(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "the probe and the topic check depend on it"),
            Map.entry(ProducerConfig.METADATA_MAX_IDLE_CONFIG, "fail-over to the spool depends on it"));

    private final String brokers;
    private final Map<String, String> client;

    @Inject
    public KafkaClients(TributaryConfig config) {
        this(config.kafka().brokers(), config.kafka().client());
        checkRecordLimit(config.kafka().maxRecordBytes(), client);
    }

    /** The record limit must leave the producer room for one record and its batch framing. */
    static void checkRecordLimit(int maxRecordBytes, Map<String, String> client) {
        int request;
        try {
            request = Integer.parseInt(client.getOrDefault(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576").trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PREFIX + ProducerConfig.MAX_REQUEST_SIZE_CONFIG + " must be a number of bytes");
        }
        if (maxRecordBytes < 1024 || maxRecordBytes > request - 1024) {
            throw new IllegalArgumentException("tributary.kafka.max-record-bytes (" + maxRecordBytes + ") must be at "
                    + "least 1024 and at most " + PREFIX + ProducerConfig.MAX_REQUEST_SIZE_CONFIG + " (" + request
                    + ") minus 1024 bytes of framing");
        }
    }

    /** Rejects keys Tributary owns and keys no Kafka client knows (a typo), naming the key. */
    public KafkaClients(String brokers, Map<String, String> client) {
        Set<String> known = new TreeSet<>(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());
        for (String key : client.keySet()) {
            if (OWNED.containsKey(key)) {
                throw new IllegalArgumentException(PREFIX + key + " cannot be set: Tributary sets " + key + " itself ("
                        + OWNED.get(key) + ")");
            }
            if (!known.contains(key)) {
                throw new IllegalArgumentException(
                        PREFIX + key + " is not a Kafka producer, consumer or admin client setting");
            }
        }
        this.brokers = brokers;
        this.client = Map.copyOf(client);
    }

    /**
     * Settings for Camel's producers and consumers (the Kafka component's additional properties); each endpoint adds
     * its own options on top.
     */
    public Map<String, Object> producersAndConsumers() {
        return new HashMap<>(client);
    }

    /** An admin client's settings: the pass-through settings an admin client knows, then the caller's own. */
    public Map<String, Object> admin(Map<String, Object> own) {
        Map<String, Object> props = new TreeMap<>();
        Set<String> adminKeys = AdminClientConfig.configNames();
        client.forEach((k, v) -> {
            if (adminKeys.contains(k)) {
                props.put(k, v);
            }
        });
        props.putAll(own);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        return props;
    }
}
