package tributary.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

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
}
