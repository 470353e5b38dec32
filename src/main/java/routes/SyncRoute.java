package routes;

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
 * then publishes dead letters and acks, and only then commits the consumer offsets.
 */
@ApplicationScoped
public class SyncRoute extends RouteBuilder {

    static final String TEMPLATE = "sync-jdbc-primary";

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
                    .to("kafka:{{topic}}.acks" + KafkaUris.PRODUCER)
                .end()
                .bean(Offsets.NAME, "commit");

        for (Pipeline p : pipelines.all()) {
            templatedRoute(TEMPLATE).routeId(TEMPLATE + "-" + p.name())
                    .parameter("pipeline", p.name())
                    .parameter("topic", p.topic())
                    .parameter("batch", String.valueOf(p.config().batchSize()))
                    .parameter("batchBytes", String.valueOf(p.config().batchBytes()));
        }
    }
}
