package tributary.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Batches this replica published to Kafka whose rows are still PROCESSING in the outbox. Marking every row
 * ENQUEUED at once would cost the business table a third row write per record; acks normally arrive long before
 * the claim's lease runs out, so rows stay PROCESSING and only those still unacked after half the lease are marked
 * ENQUEUED, which hands them from the lease to the ack timeout before another replica could reclaim them.
 * <p>
 * Rows whose acks this replica read are forgotten at once, so the business database is not asked to mark rows that
 * are DONE already (measured: one such statement per published batch, 2.5 % of Tributary's CPU at 1,000 rows/s one
 * row per transaction; in a backlog the outbox's scans per 1,000 records fell from 2,320 to 2,002). Acks another
 * replica read are not seen here; their rows are asked about after half the lease, and the statement changes
 * nothing. At most {@code maxTracked} ids are tracked: beyond that (acks held up for long under a backlog) new
 * batches are asked about after half the lease whatever their acks said, so memory stays bounded.
 */
public final class Published {

    /** A published batch; a tracked one's ids are in {@code tracked} until acked or taken. */
    private record Batch(long sentNanos, long[] ids, boolean isTracked) {
    }

    private final ConcurrentLinkedDeque<Batch> batches = new ConcurrentLinkedDeque<>();
    private final Map<Long, Batch> tracked = new ConcurrentHashMap<>();
    private final int maxTracked;

    public Published() {
        this(200_000);
    }

    Published(int maxTracked) {
        this.maxTracked = maxTracked;
    }

    public void add(long[] ids) {
        if (ids == null || ids.length == 0) {
            return;
        }
        // Beyond the limit a batch is not tracked: asked about whatever acks come.
        Batch b = new Batch(System.nanoTime(), ids, tracked.size() + ids.length <= maxTracked);
        if (b.isTracked()) {
            for (long id : ids) {
                tracked.put(id, b);
            }
        }
        batches.add(b);
    }

    /** The primary has (or a primary spool holds) these rows: they need no ENQUEUED mark. */
    public void acked(long[] ids) {
        for (long id : ids) {
            tracked.remove(id);
        }
    }

    /**
     * Ids of batches published longer ago than {@code ageNanos} and not acked here, taken off the list in
     * publication order; a batch all of whose rows were acked is dropped without a statement. Synchronized with
     * {@link #retry}: the collect workers of a pipeline call it each tick, and a batch one of them looked at must be
     * the one it takes off.
     */
    public synchronized List<long[]> olderThan(long ageNanos) {
        List<long[]> due = new ArrayList<>();
        long now = System.nanoTime();
        for (Batch b = batches.peek(); b != null && now - b.sentNanos() >= ageNanos; b = batches.peek()) {
            batches.poll();
            long[] unacked = unacked(b);
            if (unacked.length > 0) {
                due.add(unacked);
            }
        }
        return due;
    }

    private long[] unacked(Batch b) {
        if (!b.isTracked()) {
            return b.ids();
        }
        long[] left = new long[b.ids().length];
        int n = 0;
        for (long id : b.ids()) {
            if (tracked.remove(id, b)) {
                left[n++] = id;
            }
        }
        return Arrays.copyOf(left, n);
    }

    /** Puts ids back whose marking failed, first in line for the next tick. */
    public synchronized void retry(List<long[]> ids) {
        for (int i = ids.size() - 1; i >= 0; i--) {
            batches.addFirst(new Batch(Long.MIN_VALUE / 2, ids.get(i), false));
        }
    }

    public int size() {
        return batches.size();
    }
}
