package tributary.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import tributary.crypto.ControlRecords.Ack;
import tributary.crypto.ControlRecords.Kind;

class AckRunsTest {

    private static Ack ack(Kind kind, long... ids) {
        return new Ack(kind, ids);
    }

    @Test
    void neighboursOfOneKindMergeIntoOneRunInTheOrderTheyCame() {
        AckRuns runs = new AckRuns(100);
        runs.add(ack(Kind.DONE, 1, 2));
        runs.add(ack(Kind.DONE, 3));
        runs.add(ack(Kind.DONE));
        runs.add(ack(Kind.DONE, 4, 5));
        List<AckRuns.Run> merged = runs.runs();
        assertEquals(1, merged.size(), "four DONE acks are one statement");
        assertEquals(Kind.DONE, merged.get(0).kind());
        assertArrayEquals(new long[] { 1, 2, 3, 4, 5 }, merged.get(0).ids());
    }

    @Test
    void aChangeOfKindStartsANewRunSoALaterAckStillWins() {
        AckRuns runs = new AckRuns(100);
        runs.add(ack(Kind.DONE, 1, 2));
        runs.add(ack(Kind.PARKED, 7, 8));
        runs.add(ack(Kind.PARKED, 9));
        runs.add(ack(Kind.DONE, 7));
        List<AckRuns.Run> merged = runs.runs();
        assertEquals(List.of(Kind.DONE, Kind.PARKED, Kind.DONE), merged.stream().map(AckRuns.Run::kind).toList());
        assertArrayEquals(new long[] { 1, 2 }, merged.get(0).ids());
        assertArrayEquals(new long[] { 7, 8, 9 }, merged.get(1).ids());
        assertArrayEquals(new long[] { 7 }, merged.get(2).ids(), "parked first, done after: done is applied last");
    }

    @Test
    void aRunHoldsAtMostItsIds() {
        AckRuns runs = new AckRuns(3);
        runs.add(ack(Kind.DONE, 1, 2));
        runs.add(ack(Kind.DONE, 3, 4, 5, 6, 7));
        List<AckRuns.Run> merged = runs.runs();
        assertEquals(3, merged.size());
        assertArrayEquals(new long[] { 1, 2, 3 }, merged.get(0).ids());
        assertArrayEquals(new long[] { 4, 5, 6 }, merged.get(1).ids());
        assertArrayEquals(new long[] { 7 }, merged.get(2).ids());
    }

    @Test
    void noAcksNoStatements() {
        AckRuns runs = new AckRuns(3);
        runs.add(ack(Kind.PARKED));
        assertEquals(List.of(), runs.runs());
        assertThrows(IllegalArgumentException.class, () -> new AckRuns(0));
    }
}
