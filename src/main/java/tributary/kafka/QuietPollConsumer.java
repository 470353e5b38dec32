package tributary.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetCommitCallback;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * A Kafka consumer that waits long while its topics are quiet, and commits a batch's offsets once what the batch
 * sent on is acknowledged, from its own thread.
 * <p>
 * Camel's batching consumer hands a partial batch to the route only at the poll after the one that fetched it, so the
 * poll timeout is the latency of a partial batch and is kept short (5 ms for the data topics). Quiet, such a consumer
 * would wake 200 times a second for nothing. Two empty polls in a row leave no record behind (the first empty poll
 * hands the batch on, the second is a margin for the millisecond clocks), so from then on a poll waits up to
 * {@code quietWait}: the broker answers the open fetch as soon as a record arrives, and the poll returns it at once.
 * Stopping wakes a waiting poll; group rebalances and heartbeats run inside it as in any long poll.
 * <p>
 * A Kafka consumer may only be used from one thread, and the sync route does not wait for its acks (the next batch
 * is written while Kafka acknowledges the last one's), so the offsets wait here: each poll first commits, in order,
 * the offsets whose sends completed. A batch whose send failed for good is delivered again (the consumer seeks back to
 * its first records, as a failed batch route does), so its ack is sent again; the primary already has its rows.
 */
final class QuietPollConsumer extends KafkaConsumer<Object, Object> {

    /** Empty polls after which nothing is left to hand on. */
    static final int EMPTY_BEFORE_QUIET = 2;
    private static final Logger LOG = Logger.getLogger(QuietPollConsumer.class);
    private static final long CLOSE_WAIT_MS = 2_000;

    /**
     * Commits are sent without waiting for the broker's answer: nothing is lost by not waiting, since a commit lost
     * in a crash only means the batch is delivered again, which the version guard and idempotent acks make harmless.
     */
    static final OffsetCommitCallback LOG_REFUSED = (offsets, failure) -> {
        if (failure != null) {
            LOG.warnf("offset commit of %s not taken (%s); a later commit covers it, or the records are delivered "
                    + "again and written idempotently", offsets.keySet(), failure.getClass().getSimpleName());
        }
    };

    private record Pending(CompletableFuture<?> sent, Map<TopicPartition, Long> first,
            Map<TopicPartition, OffsetAndMetadata> next) {
    }

    private final Duration quietWait;
    private final Deque<Pending> pending = new ArrayDeque<>();
    private int empty;

    QuietPollConsumer(Properties props, Duration quietWait) {
        super(props);
        this.quietWait = quietWait;
    }

    /**
     * Commits a batch's offsets ({@code next}: the offset after its last record, per partition) once {@code sent}
     * completed normally, at a later poll, after those given before; if it failed, seeks back to the batch's
     * {@code first} records. Called by the route of this consumer's batch, while the consumer's thread waits for it.
     */
    void commitWhenSent(CompletableFuture<?> sent, Map<TopicPartition, Long> first,
            Map<TopicPartition, OffsetAndMetadata> next) {
        pending.add(new Pending(sent, Map.copyOf(first), Map.copyOf(next)));
    }

    @Override
    public ConsumerRecords<Object, Object> poll(Duration timeout) {
        commitSent();
        boolean quiet = pending.isEmpty() && empty >= EMPTY_BEFORE_QUIET && quietWait.compareTo(timeout) > 0;
        ConsumerRecords<Object, Object> records = super.poll(quiet ? quietWait : timeout);
        empty = records.isEmpty() ? Math.min(empty + 1, EMPTY_BEFORE_QUIET) : 0;
        return records;
    }

    /** Waits a little for acks still on their way, so a clean stop leaves nothing to deliver again. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        for (Pending p : pending) {
            try {
                p.sent().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception notSent) {
                // not committed: delivered again after the restart
            }
        }
        pending.removeIf(p -> p.sent().isCompletedExceptionally());
        commitSent();
        super.close();
    }

    private void commitSent() {
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        while (!pending.isEmpty() && pending.peek().sent().isDone()) {
            Pending p = pending.poll();
            if (p.sent().isCompletedExceptionally()) {
                LOG.warnf("what a batch of %s sent on was not acknowledged; the batch is delivered again",
                        p.first().keySet());
                p.first().forEach((partition, offset) -> {
                    if (assignment().contains(partition)) {
                        seek(partition, offset);
                    }
                });
            } else {
                done.putAll(p.next());
            }
        }
        if (!done.isEmpty()) {
            commitAsync(done, LOG_REFUSED);
        }
    }
}
