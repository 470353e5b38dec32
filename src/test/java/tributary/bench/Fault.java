package tributary.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/** The faults a chaos run injects, and the seeded order it injects them in. */
public enum Fault {
    KAFKA, PRIMARY, STANDBY, TRIBUTARY;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Seeded random faults. With {@code everyKindFirst} the first four are every kind once in shuffled order, so a
     * short run cannot miss one by chance; after that each is drawn at random.
     */
    public static final class Schedule {

        private final Random random;
        private final Deque<Fault> first = new ArrayDeque<>();

        public Schedule(Random random, boolean everyKindFirst) {
            this.random = random;
            if (everyKindFirst) {
                List<Fault> all = new ArrayList<>(List.of(values()));
                Collections.shuffle(all, random);
                first.addAll(all);
            }
        }

        public Fault next() {
            return first.isEmpty() ? values()[random.nextInt(values().length)] : first.poll();
        }

        /** True once every guaranteed kind has been handed out (always true without {@code everyKindFirst}). */
        public boolean covered() {
            return first.isEmpty();
        }
    }
}
