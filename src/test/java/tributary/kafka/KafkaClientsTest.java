package tributary.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import tributary.config.TributaryConfig;

/** Client settings: what may be passed through, what the admin clients get, how refusals read, topic names. */
class KafkaClientsTest {

    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"tributary\" password=\"s3cr3t\";";

    private static String rejection(String key) {
        Map<String, String> client = Map.of("security.protocol", "SASL_SSL", key, "x");
        return assertThrows(IllegalArgumentException.class, () -> new KafkaClients("127.0.0.1:9092", client)).getMessage();
    }

    @Test
    void keysTributaryOwnsAreRejectedByName() {
        for (String key : List.of("bootstrap.servers", "key.serializer", "value.serializer", "key.deserializer",
                "value.deserializer", "enable.auto.commit", "group.id", "auto.offset.reset", "acks", "enable.idempotence",
                "max.in.flight.requests.per.connection", "max.block.ms", "linger.ms", "max.poll.records",
                "transactional.id", "metadata.max.idle.ms")) {
            String message = rejection(key);
            assertTrue(message.startsWith("tributary.kafka.client." + key + " cannot be set"), message);
        }
        assertTrue(rejection("bootstrap.servers").contains("tributary.kafka.brokers"));
        assertTrue(rejection("linger.ms").contains("tributary.kafka.linger-ms"));
    }

    @Test
    void aKeyNoKafkaClientKnowsIsRejectedByName() {
        String message = rejection("sasl.jass.config");
        assertTrue(message.contains("tributary.kafka.client.sasl.jass.config"), message);
        assertFalse(message.contains("\"x\""), "no value in the message");
    }

    @Test
    void adminClientsGetTheSettingsTheyKnowAndTheirOwn() {
        KafkaClients clients = new KafkaClients("k1:9093,k2:9093", Map.of("security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", JAAS, "compression.type", "zstd",
                "fetch.min.bytes", "1024"));
        Map<String, Object> admin = clients.admin(Map.of("request.timeout.ms", 2000));
        assertEquals(Map.of("bootstrap.servers", "k1:9093,k2:9093", "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", JAAS, "request.timeout.ms", 2000), admin);

        Map<String, Object> camel = clients.producersAndConsumers();
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", JAAS,
                "compression.type", "zstd", "fetch.min.bytes", "1024"), camel);
        assertFalse(clients.toString().contains("s3cr3t"));
    }

    @Test
    void dottedKeysBindFromConfigurationWithTheTopicWaitDefault() {
        Map<String, String> values = new HashMap<>();
        values.put("tributary.kafka.brokers", "127.0.0.1:9092");
        values.put("tributary.crypto.active-key", "k1");
        values.put("tributary.crypto.keys.k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        values.put("tributary.kafka.client.security.protocol", "SASL_SSL");
        values.put("tributary.kafka.client.sasl.jaas.config", JAAS);
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(TributaryConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build();
        TributaryConfig.Kafka kafka = config.getConfigMapping(TributaryConfig.class).kafka();
        assertEquals(Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", JAAS), kafka.client());
        assertEquals(Duration.ofSeconds(30), kafka.topicWait());
        assertEquals(JAAS, new KafkaClients(config.getConfigMapping(TributaryConfig.class)).admin(Map.of())
                .get("sasl.jaas.config"));
    }

    @Test
    void aRefusalSaysSoAndOtherFailuresKeepTheirCause() {
        String auth = KafkaErrors.describe(new ExecutionException(
                new SaslAuthenticationException("Authentication failed: Invalid username or password")));
        assertEquals("authentication refused by the broker (SaslAuthenticationException: Authentication failed: "
                + "Invalid username or password)", auth);
        assertTrue(KafkaErrors.isRefusal(auth));
        String authz = KafkaErrors.describe(new TopicAuthorizationException("Not authorized to access topics: [t]"));
        assertTrue(authz.startsWith("authorization refused by the broker (TopicAuthorizationException"), authz);
        assertTrue(KafkaErrors.refused(new RuntimeException(new TopicAuthorizationException("no"))));

        String timeout = KafkaErrors.describe(new ExecutionException(new TimeoutException("Timed out waiting")));
        assertEquals("org.apache.kafka.common.errors.TimeoutException: Timed out waiting", timeout);
        assertFalse(KafkaErrors.isRefusal(timeout));
        assertFalse(KafkaErrors.isRefusal(null));
    }

    @Test
    void topicNamesKafkaRejectsFailNamingTheKey() {
        Topics.checkName("orders", "tributary.orders");
        Topics.checkName("orders", "Orders_2026-v1");
        Topics.checkName("orders", "t".repeat(244));
        for (String bad : List.of("orders topic", "orders/x", "ordres#1", "", ".", "..", "t".repeat(245), "zamówienia")) {
            String message = assertThrows(IllegalArgumentException.class, () -> Topics.checkName("orders", bad)).getMessage();
            assertTrue(message.startsWith("tributary.pipelines.orders.topic '"), message);
        }
    }

    @Test
    void theRecordLimitMustFitTheProducersRequestSize() {
        KafkaClients.checkRecordLimit(1_000_000, java.util.Map.of());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> KafkaClients.checkRecordLimit(2_000_000, java.util.Map.of()));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("tributary.kafka.max-record-bytes")
                && e.getMessage().contains("tributary.kafka.client.max.request.size"), e.getMessage());
        KafkaClients.checkRecordLimit(2_000_000, java.util.Map.of("max.request.size", "4194304"));
    }
}
