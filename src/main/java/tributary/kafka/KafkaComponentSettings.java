package tributary.kafka;

import org.apache.camel.component.kafka.KafkaComponent;
import org.apache.camel.quarkus.core.events.ComponentAddEvent;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Sets up Camel's Kafka component before its first endpoint exists: the pass-through client settings, so every
 * producer and consumer gets them; producers that know the pipeline topics before their first send; consumers that
 * wait long while their topics are quiet. Settings stay out of endpoint URIs, which Camel shows in logs and JMX;
 * endpoint options ({@code additionalProperties.*} included) are applied on top.
 */
@ApplicationScoped
public class KafkaComponentSettings {

    public void onComponentAdd(@Observes ComponentAddEvent event, KafkaClients clients, Topics topics) {
        if (event.getComponent() instanceof KafkaComponent kafka) {
            kafka.getConfiguration().getAdditionalProperties().putAll(clients.producersAndConsumers());
            kafka.setKafkaClientFactory(new PipelineClientFactory(topics.names(), topics::ready));
        }
    }
}
