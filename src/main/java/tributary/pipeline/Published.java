package tributary.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Batches this replica published to Kafka whose rows are still PROCESSING in the outbox. Marking every row
 * ENQUEUED at once would cost the business table a third row write per record; acks normally arrive long before
 * the claim's lease runs out, so rows stay PROCESSING and only those still unacked after half the lease are marked
 * ENQUEUED, which hands them from the lease to the ack timeout before another replica could reclaim them.
 */
public final class Published {

    private record Batch(long sentNanos, long[] ids) {
    }

    private final ConcurrentLinkedDeque<Batch> batches = new ConcurrentLinkedDeque<>();

    public void add(long[] ids) {
        if (ids != null && ids.length > 0) {
            batches.add(new Batch(System.nanoTime(), ids));
        }
    }

    /** Ids of batches published longer ago than {@code ageNanos}, taken off the list in publication order. */
    public List<long[]> olderThan(long ageNanos) {
        List<long[]> due = new ArrayList<>();
        long now = System.nanoTime();
        for (Batch b = batches.peek(); b != null && now - b.sentNanos() >= ageNanos; b = batches.peek()) {
            batches.poll();
            due.add(b.ids());
        }
        return due;
    }

    /** Puts ids back whose marking failed, first in line for the next tick. */
    public void retry(List<long[]> ids) {
        for (int i = ids.size() - 1; i >= 0; i--) {
            batches.addFirst(new Batch(Long.MIN_VALUE / 2, ids.get(i)));
        }
    }

    public int size() {
        return batches.size();
    }
}
