package routes;

import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.kafka.Offsets;
import tributary.pipeline.AckStage;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/** ack: the success queue marks outbox rows DONE; the failure queue marks them DEAD with the reason. */
@ApplicationScoped
public class AckRoute extends RouteBuilder {

    static final String ACK = "ack-outbox-done";
    static final String DEAD = "ack-outbox-dead";

    private final Pipelines pipelines;

    public AckRoute(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    @Override
    public void configure() {
        template(ACK, "acks", "done");
        template(DEAD, "dlq", "dead");

        for (Pipeline p : pipelines.outboxes()) {
            for (String template : new String[] { ACK, DEAD }) {
                templatedRoute(template).routeId(template + "-" + p.name())
                        .parameter("pipeline", p.name())
                        .parameter("topic", p.topic());
            }
        }
    }

    private void template(String name, String queue, String method) {
        routeTemplate(name)
                .templateParameter("pipeline").templateParameter("topic")
                .from("kafka:{{topic}}." + queue + "?groupId=tributary-{{pipeline}}-" + queue + "&maxPollRecords=200"
                        + KafkaUris.CONTROL_CONSUMER)
                .routeConfigurationId(ErrorHandling.BATCH)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .setProperty(Exchanges.BATCH, body())
                .bean(AckStage.NAME, method)
                .bean(Offsets.NAME, "commit");
    }
}
