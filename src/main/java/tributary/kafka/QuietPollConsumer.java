package tributary.kafka;

import java.time.Duration;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * A Kafka consumer that waits long while its topics are quiet, and as configured while records flow.
 * <p>
 * Camel's batching consumer hands a partial batch to the route only at the poll after the one that fetched it, so the
 * poll timeout is the latency of a partial batch and is kept short (5 ms for the data topics). Quiet, such a consumer
 * would wake 200 times a second for nothing. Two empty polls in a row leave no record behind (the first empty poll
 * hands the batch on, the second is a margin for the millisecond clocks), so from then on a poll waits up to
 * {@code quietWait}: the broker answers the open fetch as soon as a record arrives, and the poll returns it at once.
 * Stopping wakes a waiting poll; group rebalances and heartbeats run inside it as in any long poll.
 */
final class QuietPollConsumer extends KafkaConsumer<Object, Object> {

    /** Empty polls after which nothing is left to hand on. */
    static final int EMPTY_BEFORE_QUIET = 2;

    private final Duration quietWait;
    private int empty;

    QuietPollConsumer(Properties props, Duration quietWait) {
        super(props);
        this.quietWait = quietWait;
    }

    @Override
    public ConsumerRecords<Object, Object> poll(Duration timeout) {
        boolean quiet = empty >= EMPTY_BEFORE_QUIET && quietWait.compareTo(timeout) > 0;
        ConsumerRecords<Object, Object> records = super.poll(quiet ? quietWait : timeout);
        empty = records.isEmpty() ? Math.min(empty + 1, EMPTY_BEFORE_QUIET) : 0;
        return records;
    }
}
