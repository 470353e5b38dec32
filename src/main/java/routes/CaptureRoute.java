package routes;

import org.apache.camel.builder.RouteBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.capture.CaptureStage;
import tributary.pipeline.CollectStage;
import tributary.pipeline.Exchanges;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.pipeline.Preparation;

/**
 * Table mode: capture → clean → encrypt → enqueue. Each batch of changes the change log reader hands over is
 * cleaned, sealed and published to the pipeline's topic, or to the enqueue spool while Kafka is out of the write
 * path; the reader marks the batch's offsets only once this route returned. From the topic on, the path is the
 * outbox pipelines' (sync, failover, typed targets, tombstones).
 */
@ApplicationScoped
public class CaptureRoute extends RouteBuilder {

    static final String TEMPLATE = "capture-table";
    static final String START = "capture-start";
    static final String OBSERVE = "capture-observe";

    private final Pipelines pipelines;
    private final Preparation preparation;

    public CaptureRoute(Pipelines pipelines, Preparation preparation) {
        this.pipelines = pipelines;
        this.preparation = preparation;
    }

    @Override
    public void configure() {
        preparation.prepare();

        // A failure goes back to the reader, which retries the batch and marks nothing meanwhile.
        routeTemplate(TEMPLATE)
                .templateParameter("pipeline").templateParameter("topic")
                .from("direct:capture-{{pipeline}}")
                .errorHandler(noErrorHandler())
                .bean(CaptureStage.NAME, "clean")
                .filter(Batches.NOT_EMPTY)
                    .setProperty(Exchanges.IDS, method(CollectStage.NAME, "ids"))
                    .bean(CollectStage.NAME, "seal")
                    .setProperty(Exchanges.SEALED, body())
                    .choice()
                        .when(method(CollectStage.NAME, "kafkaUp"))
                            .to("kafka:{{topic}}" + KafkaUris.PRODUCER)
                        .otherwise()
                            .bean(CollectStage.NAME, "spool")
                    .end()
                .end()
                .setBody(exchangeProperty(CaptureStage.DEAD_LETTERS))
                .filter(Batches.NOT_EMPTY)
                    .to("kafka:{{topic}}.dlq" + KafkaUris.PRODUCER)
                .end();

        // The readers start once every route runs.
        routeTemplate(START)
                .templateParameter("pipeline")
                .from("timer:capture-start-{{pipeline}}?repeatCount=1&delay=500")
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(CaptureStage.NAME, "start");

        routeTemplate(OBSERVE)
                .templateParameter("pipeline")
                .from("timer:capture-observe-{{pipeline}}?period=5000&delay=1000")
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(CaptureStage.NAME, "observe");

        for (Pipeline p : pipelines.tables()) {
            templatedRoute(TEMPLATE).routeId(TEMPLATE + "-" + p.name())
                    .parameter("pipeline", p.name()).parameter("topic", p.topic());
            templatedRoute(START).routeId(START + "-" + p.name()).parameter("pipeline", p.name());
            templatedRoute(OBSERVE).routeId(OBSERVE + "-" + p.name()).parameter("pipeline", p.name());
        }
    }
}
