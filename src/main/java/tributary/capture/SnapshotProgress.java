package tributary.capture;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far a table's snapshot is: rows copied (by this process since it started; a resumed snapshot goes on from its
 * last chunk), the planner's estimate of the total, the rate, and the time left at that rate.
 */
public final class SnapshotProgress {

    private final AtomicLong rows = new AtomicLong();
    private volatile long estimated;
    private volatile long startedAt;
    private volatile long lastRowAt;
    private volatile boolean completed;
    private volatile boolean aborted;

    void requested(long estimatedRows) {
        estimated = estimatedRows;
        completed = false;
    }

    /** Snapshot rows of one published batch. */
    void rows(int n) {
        if (n <= 0) {
            return;
        }
        long now = System.nanoTime();
        if (startedAt == 0) {
            startedAt = now;
        }
        lastRowAt = now;
        // The last chunk's rows are published after the scan reported its end: they do not reopen the snapshot.
        rows.addAndGet(n);
    }

    /** A snapshot began (a first one, a resumed one, or a re-snapshot an operator asked for). */
    void started() {
        completed = false;
        aborted = false;
    }

    void complete() {
        completed = true;
    }

    void aborted() {
        aborted = true;
    }

    void estimate(long estimatedRows) {
        if (estimated == 0) {
            estimated = estimatedRows;
        }
    }

    public long rows() {
        return rows.get();
    }

    public long estimated() {
        return estimated;
    }

    public boolean running() {
        return startedAt != 0 && !completed;
    }

    public boolean completed() {
        return completed;
    }

    public double rowsPerSecond() {
        long start = startedAt;
        if (start == 0) {
            return 0;
        }
        double seconds = (lastRowAt - start) / 1e9;
        return seconds <= 0 ? 0 : rows.get() / seconds;
    }

    /** Time left at the current rate, or null when unknown. */
    public Duration eta() {
        double rate = rowsPerSecond();
        long left = estimated - rows.get();
        if (rate <= 0 || estimated <= 0) {
            return null;
        }
        return Duration.ofSeconds(Math.max(0, (long) (left / rate)));
    }

    /** One line for health and the log, e.g. {@code 40000 of ~100000 rows, 8000 rows/s, ETA PT7S}. */
    public String describe() {
        if (completed) {
            return "snapshot complete, " + rows.get() + " rows";
        }
        if (aborted) {
            return "snapshot aborted after " + rows.get() + " rows";
        }
        if (startedAt == 0) {
            return estimated > 0 ? "snapshot requested, ~" + estimated + " rows" : "streaming";
        }
        Duration eta = eta();
        return "snapshot " + rows.get() + " of ~" + estimated + " rows, " + Math.round(rowsPerSecond()) + " rows/s"
                + (eta == null ? "" : ", ETA " + eta);
    }
}
