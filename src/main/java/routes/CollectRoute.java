package routes;

import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.pipeline.CollectStage;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.pipeline.Preparation;

/**
 * collect → clean → encrypt → enqueue: claims outbox rows and publishes them sealed to the pipeline's topic; while
 * Kafka is out of the write path the sealed batch goes to the enqueue spool instead.
 */
@ApplicationScoped
public class CollectRoute extends RouteBuilder {

    static final String TEMPLATE = "collect-outbox";

    private final Pipelines pipelines;
    private final Preparation preparation;

    public CollectRoute(Pipelines pipelines, Preparation preparation) {
        this.pipelines = pipelines;
        this.preparation = preparation;
    }

    @Override
    public void configure() {
        preparation.prepare();

        // The timer ticks at the short interval; the pacer decides whether a tick polls (it backs off when idle).
        // synchronous: the next tick waits until Kafka acknowledged the batch and the rows are marked.
        routeTemplate(TEMPLATE)
                .templateParameter("pipeline").templateParameter("topic").templateParameter("tick")
                .from("timer:collect-{{pipeline}}?period={{tick}}&synchronous=true")
                .routeConfigurationId(ErrorHandling.COLLECT)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .filter(method(CollectStage.NAME, "due"))
                    .setProperty(Exchanges.CLAIMED, constant(-1))
                    .loopDoWhile(method(CollectStage.NAME, "pollAgain")).breakOnShutdown()
                        .removeProperty(Exchanges.IDS).removeProperty(Exchanges.SEALED)
                        .bean(CollectStage.NAME, "claim")
                        .setProperty(Exchanges.CLAIMED, simple("${body.size()}"))
                        .bean(CollectStage.NAME, "clean")
                        .filter(simple("${body.size()} > 0"))
                            .setProperty(Exchanges.IDS, method(CollectStage.NAME, "ids"))
                            .bean(CollectStage.NAME, "seal")
                            .setProperty(Exchanges.SEALED, body())
                            .choice()
                                .when(method(CollectStage.NAME, "kafkaUp"))
                                    .to("kafka:{{topic}}" + KafkaUris.PRODUCER)
                                    .bean(CollectStage.NAME, "enqueued")
                                .otherwise()
                                    .bean(CollectStage.NAME, "spool")
                            .end()
                        .end()
                    .end()
                .end();

        for (Pipeline p : pipelines.outboxes()) {
            templatedRoute(TEMPLATE).routeId(TEMPLATE + "-" + p.name())
                    .parameter("pipeline", p.name())
                    .parameter("topic", p.topic())
                    .parameter("tick", String.valueOf(Math.max(1, p.config().poll().minInterval().toMillis())));
        }
    }
}
