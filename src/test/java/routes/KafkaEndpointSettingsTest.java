package routes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.quarkus.core.events.ComponentAddEvent;
import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import tributary.config.TributaryConfig;
import tributary.failover.TargetHealth;
import tributary.jdbc.Datasources;
import tributary.kafka.KafkaClients;
import tributary.kafka.KafkaComponentSettings;
import tributary.kafka.Topics;
import tributary.pipeline.Pipelines;

/**
 * The pass-through client settings reach the Kafka clients of every endpoint the routes declare, the endpoints' own
 * options (additionalProperties.* included) still apply on top, and no secret lands in an endpoint URI.
 */
class KafkaEndpointSettingsTest {

    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"tributary\" password=\"s3cr3t-pw\";";

    @Test
    void clientSettingsMergeWithEndpointOptions() throws Exception {
        Map<String, String> values = new HashMap<>();
        values.put("tributary.kafka.brokers", "127.0.0.1:9092");
        values.put("tributary.kafka.client.security.protocol", "SASL_SSL");
        values.put("tributary.kafka.client.sasl.mechanism", "PLAIN");
        values.put("tributary.kafka.client.sasl.jaas.config", JAAS);
        values.put("tributary.kafka.client.ssl.truststore.location", "/etc/kafka/trust.p12");
        values.put("tributary.kafka.client.batch.size", "65536");
        values.put("tributary.crypto.active-key", "k1");
        values.put("tributary.crypto.keys.k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        values.put("tributary.datasources.src.url", "jdbc:postgresql://127.0.0.1:1/db");
        values.put("tributary.pipelines.orders.source.datasource", "src");
        values.put("tributary.pipelines.orders.target.datasource", "src");
        values.put("tributary.pipelines.orders.target.table", "orders");
        TributaryConfig config = new SmallRyeConfigBuilder().withMapping(TributaryConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build().getConfigMapping(TributaryConfig.class);
        KafkaClients clients = new KafkaClients(config);
        Topics topics = new Topics(config, new Pipelines(config, new Datasources(config), new org.apache.camel.impl.DefaultCamelContext()), clients, new TargetHealth(1));
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            KafkaComponent kafka = new KafkaComponent(camel);
            new KafkaComponentSettings().onComponentAdd(new ComponentAddEvent(kafka), clients, topics);
            camel.addComponent("kafka", kafka);
            camel.start();

            KafkaEndpoint producer = camel.getEndpoint("kafka:tributary.orders" + KafkaUris.PRODUCER, KafkaEndpoint.class);
            Properties p = producer.getConfiguration().createProducerProperties();
            assertEquals("SASL_SSL", p.get("security.protocol"));
            assertEquals("PLAIN", p.get("sasl.mechanism"));
            assertEquals(JAAS, p.get("sasl.jaas.config"));
            assertEquals("/etc/kafka/trust.p12", p.get("ssl.truststore.location"));
            assertEquals("86400000", String.valueOf(p.get("metadata.max.idle.ms")), "the endpoint's additionalProperties");
            assertEquals("0", String.valueOf(p.get("max.block.ms")));
            assertEquals("all", String.valueOf(p.get("acks")));
            assertEquals("65536", String.valueOf(p.get("batch.size")), "a client setting wins over the endpoint's 256 KiB");

            KafkaEndpoint consumer = camel.getEndpoint("kafka:tributary.orders?groupId=tributary-orders"
                    + KafkaUris.BATCH_CONSUMER, KafkaEndpoint.class);
            Properties c = consumer.getConfiguration().createConsumerProperties();
            assertEquals("SASL_SSL", c.get("security.protocol"));
            assertEquals(JAAS, c.get("sasl.jaas.config"));
            assertEquals("false", String.valueOf(c.get("enable.auto.commit")));
            KafkaEndpoint acks = camel.getEndpoint("kafka:tributary.orders.acks?groupId=tributary-orders-acks"
                    + KafkaUris.CONTROL_CONSUMER, KafkaEndpoint.class);
            assertEquals(Long.valueOf(100), acks.getConfiguration().getPollTimeoutMs(), "an idle acks consumer wakes 10 times a second");
            assertEquals(Long.valueOf(5), consumer.getConfiguration().getPollTimeoutMs(), "the data consumer hands on a trickle at once");

            // One endpoint's options stay its own: the component (and so the consumer) did not pick them up.
            assertFalse(kafka.getConfiguration().getAdditionalProperties().containsKey("metadata.max.idle.ms"));
            assertFalse(c.containsKey("metadata.max.idle.ms"));
            for (KafkaEndpoint e : new KafkaEndpoint[] { producer, consumer }) {
                assertFalse(e.getEndpointUri().contains("s3cr3t") || e.getEndpointUri().contains("jaas"), e.getEndpointUri());
            }
        }
    }
}
