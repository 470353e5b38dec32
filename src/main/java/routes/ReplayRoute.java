package routes;

import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.failover.ReplayStage;
import tributary.pipeline.Exchanges;
import tributary.pipeline.LocalDeadLetters;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/**
 * replay: drains each spool to its target once the target is healthy, oldest segment first. The file consumer
 * never deletes or moves a segment itself ({@code noop}, not idempotent, so it is offered again until gone):
 * the replay bean deletes it only after the target committed its records.
 */
@ApplicationScoped
public class ReplayRoute extends RouteBuilder {

    static final String ENQUEUE = "replay-spool-enqueue";
    static final String DATABASE = "replay-spool-jdbc";

    private final Pipelines pipelines;
    private final TributaryConfig config;

    public ReplayRoute(Pipelines pipelines, TributaryConfig config) {
        this.pipelines = pipelines;
        this.config = config;
    }

    private static String segments(String dirParameter) {
        return "file:{{" + dirParameter + "}}?noop=true&idempotent=false&include=seg-.*\\.seg&sortBy=file:name"
                + "&readLock=none&maxMessagesPerPoll=1&eagerMaxMessagesPerPoll=false&sendEmptyMessageWhenIdle=true&delay={{delay}}&initialDelay=1000";
    }

    @Override
    public void configure() {
        routeTemplate(ENQUEUE)
                .templateParameter("pipeline").templateParameter("topic").templateParameter("dir").templateParameter("delay")
                .from(segments("dir"))
                .routeConfigurationId(ErrorHandling.BATCH)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(ReplayStage.NAME, "seal(${exchangeProperty." + Exchanges.PIPELINE + "}, 'enqueue')")
                .choice()
                    .when(header(Exchange.FILE_PATH).isNull())
                        .bean(ReplayStage.NAME, "requeueIfDrained")
                    .when(method(ReplayStage.NAME, "ready(${exchangeProperty." + Exchanges.PIPELINE + "}, 'enqueue')"))
                        .setProperty(Exchanges.SEGMENT, header(Exchange.FILE_PATH))
                        .setBody(method(ReplayStage.NAME, "enqueueMessages"))
                        .setProperty(Exchanges.SEALED, body())
                        .setProperty(Exchanges.REFUSED, method(ReplayStage.NAME, "noneRefused"))
                        .filter(Batches.NOT_EMPTY)
                            .doTry()
                                .to("kafka:{{topic}}" + KafkaUris.PRODUCER)
                            .doCatch(Exception.class).onWhen(method(ReplayStage.NAME, "recordRefused(${exception})"))
                                // One record Kafka refuses for what it is must not hold the segment (and every later
                                // one) forever: send record by record and keep the refused ones apart.
                                .split(exchangeProperty(Exchanges.SEALED))
                                    .bean(ReplayStage.NAME, "unwrap")
                                    .doTry()
                                        .to("kafka:{{topic}}" + KafkaUris.PRODUCER)
                                    .doCatch(Exception.class).onWhen(method(ReplayStage.NAME, "recordRefused(${exception})"))
                                        .bean(ReplayStage.NAME, "refused")
                                    .end()
                                .end()
                            .end()
                        .end()
                        .setBody(exchangeProperty(Exchanges.SEALED))
                        .bean(ReplayStage.NAME, "enqueueReplayed")
                .end();

        // One template for both database targets (primary, standby): the target is a parameter.
        String pipeline = "${exchangeProperty." + Exchanges.PIPELINE + "}";
        routeTemplate(DATABASE)
                .templateParameter("pipeline").templateParameter("target").templateParameter("topic")
                .templateParameter("dir").templateParameter("delay")
                .from(segments("dir"))
                .routeConfigurationId(ErrorHandling.BATCH)
                .setProperty(Exchanges.PIPELINE, constant("{{pipeline}}"))
                .bean(ReplayStage.NAME, "seal(" + pipeline + ", '{{target}}')")
                .filter(header(Exchange.FILE_PATH).isNotNull())
                .filter(method(ReplayStage.NAME, "ready(" + pipeline + ", '{{target}}')"))
                    .setProperty(Exchanges.SEGMENT, header(Exchange.FILE_PATH))
                    .setProperty(Exchanges.OPENED, method(ReplayStage.NAME, "replayTarget(" + pipeline + ", '{{target}}', "
                            + "${exchangeProperty." + Exchanges.SEGMENT + "})"))
                    .setBody(method(ReplayStage.NAME, "deadLetters(" + pipeline + ", '{{target}}', ${exchangeProperty."
                            + Exchanges.OPENED + "})"))
                    .filter(Batches.NOT_EMPTY)
                        .doTry()
                            .to("kafka:{{topic}}.dlq" + KafkaUris.PRODUCER)
                        .doCatch(Exception.class).onWhen(method(LocalDeadLetters.NAME, "refusedForGood(${exception})"))
                            .bean(LocalDeadLetters.NAME, "keep")
                        .end()
                    .end()
                    // The primary committed the segment: its rows become DONE (they were PARKED until now).
                    .setBody(method(ReplayStage.NAME, "acks(" + pipeline + ", '{{target}}', ${exchangeProperty."
                            + Exchanges.OPENED + "})"))
                    .filter(body().isNotNull())
                        .setHeader(KafkaConstants.KEY, constant("{{pipeline}}"))
                        .to("kafka:{{topic}}.acks" + KafkaUris.PRODUCER)
                    .end()
                    .bean(ReplayStage.NAME, "targetReplayed(" + pipeline + ", '{{target}}', ${exchangeProperty."
                            + Exchanges.SEGMENT + "}, ${exchangeProperty." + Exchanges.OPENED + "})")
                .end();

        String delay = String.valueOf(config.spool().replayInterval().toMillis());
        for (Pipeline p : pipelines.all()) {
            templatedRoute(ENQUEUE).routeId(ENQUEUE + "-" + p.name()).parameter("pipeline", p.name())
                    .parameter("topic", p.topic()).parameter("dir", p.enqueueSpool().dir().toString())
                    .parameter("delay", delay);
            List<String> targets = p.standby().isPresent() ? List.of(Pipeline.PRIMARY, Pipeline.STANDBY) : List.of(Pipeline.PRIMARY);
            for (String target : targets) {
                templatedRoute(DATABASE).routeId("replay-spool-" + target + "-" + p.name()).parameter("pipeline", p.name())
                        .parameter("target", target).parameter("topic", p.topic())
                        .parameter("dir", p.spool(target).dir().toString()).parameter("delay", delay);
            }
        }
    }
}
