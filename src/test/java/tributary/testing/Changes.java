package tributary.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import tributary.testing.OutboxWriter.Change;

/** Business changes as tests stream them: several versions per key, some deletes, keys interleaved. */
public final class Changes {

    /** Every payload carries it, so tests can prove it never appears in clear on Kafka. */
    public static final String MARKER = "PLAINTEXT-MARKER";

    private Changes() {
    }

    /** Per key one to four versions in order, about one key in eight ending with a delete; interleaved. */
    public static List<Change> generate(String prefix, int keys, Random random) {
        List<List<Change>> perKey = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            String key = prefix + k;
            List<Change> versions = new ArrayList<>();
            int n = 1 + random.nextInt(4);
            for (int v = 1; v <= n; v++) {
                versions.add(new Change(key, v, false, "{\"order\": \"" + key + "\", \"amount\": " + random.nextInt(100_000)
                        + ", \"note\": \"" + MARKER + "\", \"v\": " + v + "}"));
            }
            if (random.nextInt(8) == 0) {
                versions.add(new Change(key, n + 1, true, null));
            }
            perKey.add(versions);
        }
        // Interleave keys while keeping each key's versions in order, as concurrent business transactions would.
        List<Change> out = new ArrayList<>();
        List<Integer> cursor = new ArrayList<>(Collections.nCopies(keys, 0));
        List<Integer> open = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            open.add(k);
        }
        while (!open.isEmpty()) {
            int pick = random.nextInt(open.size());
            int k = open.get(pick);
            out.add(perKey.get(k).get(cursor.get(k)));
            cursor.set(k, cursor.get(k) + 1);
            if (cursor.get(k) == perKey.get(k).size()) {
                open.remove(pick);
            }
        }
        return out;
    }
}
