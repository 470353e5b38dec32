package tributary.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a target table holds besides Tributary's own columns: typed columns, and the whole payload as jsonb. A
 * target without typed columns keeps the payload only, as before typed targets existed.
 */
public record TargetShape(List<TargetColumn> columns, boolean payload) {

    public TargetShape {
        columns = List.copyOf(columns);
        if (columns.isEmpty() && !payload) {
            throw new IllegalArgumentException("a target without typed columns must keep the payload");
        }
    }

    public static TargetShape untyped() {
        return new TargetShape(List.of(), true);
    }

    public boolean typed() {
        return !columns.isEmpty();
    }

    /** This shape with more columns at the end. */
    public TargetShape with(List<TargetColumn> more) {
        List<TargetColumn> all = new ArrayList<>(columns);
        all.addAll(more);
        return new TargetShape(all, payload);
    }

    /** The payload's top-level fields some column reads. */
    public Set<String> mappedFields() {
        Set<String> mapped = new TreeSet<>();
        for (TargetColumn c : columns) {
            if (c.topField() != null) {
                mapped.add(c.topField());
            }
        }
        return mapped;
    }

    public TargetColumn column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }
}
