package routes;

import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.kafka.Offsets;
import tributary.pipeline.CollectStage;
import tributary.pipeline.Exchanges;

/**
 * Error handling, declared once. Consumer batches (sync, acks, dead letters) retry with bounded exponential backoff
 * while Kafka holds the batch; if that runs out, the batch fails, the consumer seeks back and it is delivered again
 * (effectively a paused consumer that resumes by itself). An ack is retried the same way by the route that publishes
 * it; if that runs out, its batch is delivered again too. Permanent record faults never reach here: they are sorted
 * out record by record into the dead-letter path. Collect hands a batch Kafka did not take to the enqueue spool, or
 * leaves its rows FAILED in the source.
 */
@ApplicationScoped
public class ErrorHandling extends RouteConfigurationBuilder {

    static final String BATCH = "batch-retry";
    static final String COLLECT = "collect-fallback";
    static final String ACKS = "acks-retry";

    /** A batch's (and an ack's) retries: 200 ms doubling up to 10 s, about 33 s in all. */
    private static final int RETRIES = 8;
    private static final long FIRST_DELAY_MS = 200;
    private static final long MAX_DELAY_MS = 10_000;

    @Override
    public void configuration() {
        // Record faults are sorted into poison by the beans (Failures classifies them), so whatever reaches a batch
        // route means "cannot write now": retry, then let Kafka redeliver. The backoff totals about 33 s, well
        // inside max.poll.interval.ms, so the consumer keeps its partitions while it waits.
        routeConfiguration(BATCH)
                .errorHandler(defaultErrorHandler().maximumRedeliveries(RETRIES).redeliveryDelay(FIRST_DELAY_MS)
                        .useExponentialBackOff().backOffMultiplier(2).maximumRedeliveryDelay(MAX_DELAY_MS)
                        .retryAttemptedLogLevel(LoggingLevel.WARN).logRetryAttempted(true).logExhausted(true));

        // An ack Kafka did not take is retried as a batch is; if that runs out, its batch is delivered again (the
        // consumer seeks back, see QuietPollConsumer), as a failed batch route's is.
        routeConfiguration(ACKS)
                .onException(Exception.class).handled(true)
                    .maximumRedeliveries(RETRIES).redeliveryDelay(FIRST_DELAY_MS).useExponentialBackOff()
                    .backOffMultiplier(2).maximumRedeliveryDelay(MAX_DELAY_MS).retryAttemptedLogLevel(LoggingLevel.WARN)
                    .logRetryAttempted(true)
                    .bean(Offsets.NAME, "notSent")
                .end();

        routeConfiguration(COLLECT)
                .onException(Exception.class).handled(true)
                    .bean(CollectStage.NAME, "failed(${exchangeProperty." + Exchanges.PIPELINE + "}, ${exchangeProperty."
                            + Exchanges.IDS + "}, ${exchangeProperty." + Exchanges.SEALED + "}, ${exception})")
                .end();
    }
}
