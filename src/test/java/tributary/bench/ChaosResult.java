package tributary.bench;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a chaos run found, key by key against the source: {@code lost} keys missing from the primary,
 * {@code duplicated} primary rows that repeat a key or have no source row, {@code stale} keys whose version,
 * tombstone or payload differ from the source's newest change. {@code converged} says whether the primary matched
 * the source before the deadline.
 */
public record ChaosResult(int rows, long keys, long primaryRows, long lost, long duplicated, long stale,
        Map<Fault, Integer> faults, double seconds, double longestToPrimarySeconds, long outboxLeft, boolean converged) {

    /** True when nothing was lost, duplicated or stale and the primary converged in time. */
    public boolean clean() {
        return converged && lost + duplicated + stale == 0;
    }

    public double rowsPerSecond() {
        return rows / seconds;
    }

    public int faultCount() {
        return faults.values().stream().mapToInt(Integer::intValue).sum();
    }

    public String summary() {
        String byKind = faults.entrySet().stream().map(e -> e.getKey().label() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
        return String.format("lost=%d duplicated=%d stale=%d%n"
                + "rows=%d keys=%d primary rows=%d outbox rows left=%d throughput=%.0f rows/s longest to primary=%.1fs%n"
                + "faults=%d (%s)%s", lost, duplicated, stale, rows, keys, primaryRows, outboxLeft, rowsPerSecond(),
                longestToPrimarySeconds, faultCount(), byKind, converged ? "" : "\nNOT CONVERGED before the deadline");
    }
}
