package tributary.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import tributary.crypto.ControlRecords;

/**
 * The acks of one consumer batch merged into runs of one kind, in the order they came: one outbox statement per run
 * instead of one per ack. Order matters across kinds (a row parked by one ack and done by a later one must end DONE),
 * so only neighbours of the same kind merge; a run holds at most {@code maxIds} ids, so a batch read after an outage
 * (hundreds of full acks) still changes the outbox in bounded statements.
 */
final class AckRuns {

    /** One statement's worth: the ids of consecutive acks of one kind. */
    record Run(ControlRecords.Kind kind, long[] ids) {
    }

    private final int maxIds;
    private final List<Run> runs = new ArrayList<>();
    private ControlRecords.Kind kind;
    private long[] ids = new long[0];
    private int size;

    AckRuns(int maxIds) {
        if (maxIds < 1) {
            throw new IllegalArgumentException("a run holds at least one id");
        }
        this.maxIds = maxIds;
    }

    void add(ControlRecords.Ack ack) {
        for (long id : ack.ids()) {
            if (kind != ack.kind() || size == maxIds) {
                close();
                kind = ack.kind();
            }
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, Math.min(maxIds, Math.max(16, size * 2)));
            }
            ids[size++] = id;
        }
    }

    /** The runs in the order their acks came. */
    List<Run> runs() {
        close();
        return runs;
    }

    private void close() {
        if (size > 0) {
            runs.add(new Run(kind, Arrays.copyOf(ids, size)));
            size = 0;
        }
    }
}
