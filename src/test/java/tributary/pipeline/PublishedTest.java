package tributary.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

class PublishedTest {

    private final Published published = new Published(10);

    @Test
    void rowsAckedHereAreNeverAskedAbout() {
        published.add(new long[] { 1, 2, 3 });
        published.add(new long[] { 4, 5 });
        published.acked(new long[] { 1, 2, 3, 5 });
        List<long[]> due = published.olderThan(0);
        assertEquals(1, due.size(), "the fully acked batch needs no statement");
        assertArrayEquals(new long[] { 4 }, due.get(0), "only the unacked row of the other batch");
        assertEquals(List.of(), published.olderThan(0));
    }

    @Test
    void batchesYoungerThanTheAgeWait() {
        published.add(new long[] { 1 });
        assertEquals(List.of(), published.olderThan(60_000_000_000L));
        assertEquals(1, published.size());
    }

    @Test
    void anAckReadBeforeItsBatchWasAddedOnlyCostsAHarmlessStatement() {
        published.acked(new long[] { 7 });
        published.add(new long[] { 7 });
        assertArrayEquals(new long[] { 7 }, published.olderThan(0).get(0));
    }

    @Test
    void aRowPublishedAgainIsAskedAboutOnceForItsNewestBatch() {
        published.add(new long[] { 1, 2 });
        published.add(new long[] { 2 });
        List<long[]> due = published.olderThan(0);
        assertEquals(2, due.size());
        assertArrayEquals(new long[] { 1 }, due.get(0));
        assertArrayEquals(new long[] { 2 }, due.get(1));
    }

    @Test
    void beyondTheTrackedLimitBatchesAreAskedAboutWhateverTheirAcksSaid() {
        published.add(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        published.add(new long[] { 9, 10, 11 }); // would exceed 10 tracked ids
        published.acked(new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 });
        List<long[]> due = published.olderThan(0);
        assertEquals(1, due.size());
        assertArrayEquals(new long[] { 9, 10, 11 }, due.get(0));
        published.add(new long[] { 12 }); // room again once acked ids are forgotten
        published.acked(new long[] { 12 });
        assertEquals(List.of(), published.olderThan(0));
    }

    @Test
    void aBatchPutBackAfterAFailedMarkComesFirst() {
        published.add(new long[] { 1 });
        published.retry(List.of(new long[] { 8, 9 }));
        List<long[]> due = published.olderThan(Long.MAX_VALUE / 4);
        assertEquals(1, due.size(), "the retried batch is due whatever the age");
        assertArrayEquals(new long[] { 8, 9 }, due.get(0));
    }

    @Test
    void collectWorkersTakingDueBatchesAtOnceTakeEachExactlyOnce() throws Exception {
        Published many = new Published(1_000_000);
        int n = 200_000;
        for (long id = 0; id < n; id++) {
            many.add(new long[] { id });
        }
        ConcurrentLinkedQueue<Long> taken = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        Runnable worker = () -> {
            try {
                start.await();
            } catch (InterruptedException e) {
                return;
            }
            for (List<long[]> due = many.olderThan(0); !due.isEmpty() || many.size() > 0; due = many.olderThan(0)) {
                due.forEach(ids -> taken.add(ids[0]));
            }
        };
        Thread a = new Thread(worker);
        Thread b = new Thread(worker);
        a.start();
        b.start();
        start.countDown();
        a.join();
        b.join();
        boolean[] seen = new boolean[n];
        for (long id : taken) {
            assertEquals(false, seen[(int) id], "batch " + id + " taken twice");
            seen[(int) id] = true;
        }
        assertEquals(n, taken.size(), "every batch taken once");
    }
}
