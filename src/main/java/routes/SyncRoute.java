package routes;

import org.apache.camel.ExchangePattern;
import org.apache.camel.ShutdownRoute;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.kafka.Offsets;
import tributary.pipeline.Exchanges;
import tributary.pipeline.LocalDeadLetters;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.pipeline.Preparation;
import tributary.pipeline.SyncStage;

/**
 * sync → ack: consumes a pipeline's topic in batches, decrypts, upserts into the primary in one transaction,
 * publishes dead letters, hands the acks to the acks publisher, and commits the consumer offsets once Kafka has the
 * dead letters and the acks.
 */
@ApplicationScoped
public class SyncRoute extends RouteBuilder {

    static final String TEMPLATE = "sync-jdbc-primary";
    static final String ACKS = "publish-acks";

    private final Pipelines pipelines;
    private final Preparation preparation;

    public SyncRoute(Pipelines pipelines, Preparation preparation) {
        this.pipelines = pipelines;
        this.preparation = preparation;
    }

    @Override
    public void configure() {
        preparation.prepare();

        routeTemplate(TEMPLATE)
                .templateParameter("pipeline").templateParameter("topic").templateParameter("batch")
                .templateParameter("batchBytes")
                .from("kafka:{{topic}}?groupId=tributary-{{pipeline}}&maxPollRecords={{batch}}"
                        + "&fetchMaxBytes={{batchBytes}}&maxPartitionFetchBytes={{batchBytes}}"
                        + "&consumersCount={{tributary.kafka.consumers:1}}" + KafkaUris.BATCH_CONSUMER)
                .routeConfigurationId(ErrorHandling.BATCH)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .setProperty(Exchanges.BATCH, body())
                .setProperty(Exchanges.OPENED, method(SyncStage.NAME, "open"))
                .setProperty(Exchanges.ACK_KIND, method(SyncStage.NAME, "write"))
                .setBody(method(SyncStage.NAME, "deadLetters"))
                .filter(Batches.NOT_EMPTY)
                    .doTry()
                        .to("kafka:{{topic}}.dlq" + KafkaUris.PRODUCER)
                    .doCatch(Exception.class).onWhen(method(LocalDeadLetters.NAME, "refusedForGood(${exception})"))
                        // A dead-letter topic that refuses for good must not hold the pipeline: keep them on disk.
                        .bean(LocalDeadLetters.NAME, "keep")
                    .end()
                .end()
                .setBody(method(SyncStage.NAME, "acks"))
                .filter(body().isNotNull())
                    .setHeader(KafkaConstants.KEY, constant("{{pipeline}}"))
                    .setProperty(Exchanges.ACK_SENT, method(Offsets.NAME, "sending"))
                    // Waits while one ack is on its way to Kafka and the next already waits.
                    .to(ExchangePattern.InOnly, "seda:acks-{{pipeline}}?size=1&blockWhenFull=true")
                .end()
                .bean(Offsets.NAME, "commit");

        // Publishes the acks one after the other; the sync consumer commits a batch's offsets once Kafka acknowledged
        // its ack. Stops after the sync route, so the acks it handed over are sent first.
        routeTemplate(ACKS)
                .templateParameter("pipeline").templateParameter("topic")
                .from("seda:acks-{{pipeline}}?size=1&concurrentConsumers=1")
                .routeConfigurationId(ErrorHandling.ACKS)
                .shutdownRoute(ShutdownRoute.Defer)
                .to("kafka:{{topic}}.acks" + KafkaUris.PRODUCER)
                .bean(Offsets.NAME, "sent");

        for (Pipeline p : pipelines.outboxes()) {
            // A captured table's batches have no outbox rows to ack.
            templatedRoute(ACKS).routeId(ACKS + "-" + p.name())
                    .parameter("pipeline", p.name())
                    .parameter("topic", p.topic());
        }
        for (Pipeline p : pipelines.all()) {
            templatedRoute(TEMPLATE).routeId(TEMPLATE + "-" + p.name())
                    .parameter("pipeline", p.name())
                    .parameter("topic", p.topic())
                    .parameter("batch", String.valueOf(p.config().batchSize()))
                    .parameter("batchBytes", String.valueOf(p.config().batchBytes()));
        }
    }
}
