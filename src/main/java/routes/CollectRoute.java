package routes;

import org.apache.camel.ShutdownRoute;
import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.pipeline.CollectStage;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.pipeline.Preparation;

/**
 * collect → clean → encrypt → enqueue: claims outbox rows and publishes them sealed to the pipeline's topic; while
 * Kafka is out of the write path the sealed batch goes to the enqueue spool instead. Collecting the next batch
 * overlaps with publishing the previous one.
 */
@ApplicationScoped
public class CollectRoute extends RouteBuilder {

    static final String TEMPLATE = "collect-outbox";
    static final String PUBLISH = "publish-outbox";
    static final String SLICES = "slices-outbox";

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
        // While it is backed off, a tick first waits until the next poll, so an idle worker runs a few exchanges a
        // second instead of one per tick (measured: twelve idle collect workers took a fifth of Tributary's CPU
        // ticking every 5 ms while one pipeline ran 1,000 rows/s); a busy worker keeps the tick's schedule.
        // Collect and publish are two routes joined by a queue of one batch: while Kafka acknowledges a batch, the
        // next one is claimed, cleaned and sealed. Batches are published one after the other in claim order, each
        // only once Kafka acknowledged the one before, so a collector's records of a key reach the topic in order
        // and a batch Kafka failed is followed by its successors into the spool, never overtaken by them. With
        // several collect workers each claims its own share of keys, so this holds per key across workers too; and
        // each key slice is claimed by one replica at a time (KeySlices), so across replicas as well.
        routeTemplate(TEMPLATE)
                .templateParameter("pipeline").templateParameter("worker").templateParameter("tick")
                .from("timer:collect-{{pipeline}}.{{worker}}?period={{tick}}&synchronous=true")
                .routeConfigurationId(ErrorHandling.COLLECT)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .setProperty(Exchanges.WORKER, constant("{{worker}}"))
                .delay(method(CollectStage.NAME, "idleWait")).syncDelayed()
                .filter(method(CollectStage.NAME, "due"))
                    .setProperty(Exchanges.CLAIMED, constant(-1))
                    .loopDoWhile(method(CollectStage.NAME, "pollAgain")).breakOnShutdown()
                        .removeProperty(Exchanges.IDS).removeProperty(Exchanges.SEALED)
                        .bean(CollectStage.NAME, "claim")
                        .setProperty(Exchanges.CLAIMED, Batches.SIZE)
                        .bean(CollectStage.NAME, "clean")
                        .filter(Batches.NOT_EMPTY)
                            .setProperty(Exchanges.IDS, method(CollectStage.NAME, "ids"))
                            .bean(CollectStage.NAME, "seal")
                            .setProperty(Exchanges.SEALED, body())
                            // Waits while one batch is being published and the next already waits.
                            .to("seda:publish-{{pipeline}}?size=1&blockWhenFull=true")
                        .end()
                    .end()
                .end();

        // Stops after the collect route, so the batches collect handed over are published (or spooled) first.
        routeTemplate(PUBLISH)
                .templateParameter("pipeline").templateParameter("topic")
                .from("seda:publish-{{pipeline}}?size=1&concurrentConsumers=1")
                .routeConfigurationId(ErrorHandling.COLLECT)
                .shutdownRoute(ShutdownRoute.Defer)
                .choice()
                    .when(method(CollectStage.NAME, "kafkaUp"))
                        .to("kafka:{{topic}}" + KafkaUris.PRODUCER)
                        .bean(CollectStage.NAME, "enqueued")
                    .otherwise()
                        .bean(CollectStage.NAME, "spool")
                .end();

        // Keeps this replica's share of the outbox's key slices: one replica claims a key's rows at a time.
        routeTemplate(SLICES)
                .templateParameter("pipeline")
                .from("timer:slices-{{pipeline}}?period=1000&delay=0&synchronous=true")
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(CollectStage.NAME, "ownSlices");

        for (Pipeline p : pipelines.outboxes()) {
            templatedRoute(SLICES).routeId(SLICES + "-" + p.name()).parameter("pipeline", p.name());
            templatedRoute(PUBLISH).routeId(PUBLISH + "-" + p.name())
                    .parameter("pipeline", p.name())
                    .parameter("topic", p.topic());
            // Workers after the first are routes of their own: collect-outbox-<p>.1, .2, …
            for (int w = 0; w < p.config().collectWorkers(); w++) {
                templatedRoute(TEMPLATE).routeId(TEMPLATE + "-" + p.name() + (w == 0 ? "" : "." + w))
                        .parameter("pipeline", p.name())
                        .parameter("worker", String.valueOf(w))
                        .parameter("tick", String.valueOf(Math.max(1, p.config().poll().minInterval().toMillis())));
            }
        }
    }
}
