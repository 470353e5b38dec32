package tributary.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.JsonPath;

import tributary.config.Identifiers;

/**
 * A typed column of a target table and the payload field its value comes from. The field is a JSONPath naming one
 * value ({@code $.amount}, {@code $.customer.email}, {@code $['unit price']}, {@code $.lines[0].sku}); it is
 * compiled once and then followed step by step on the parsed payload.
 */
public record TargetColumn(String name, ColumnType type, String from, List<Object> steps) {

    private static final Pattern STEP = Pattern.compile("\\['((?:[^'\\\\]|\\\\.)*)'\\]|\\[(\\d+)\\]");

    public TargetColumn {
        steps = List.copyOf(steps);
    }

    /**
     * @param name the column name, a plain identifier
     * @param type the declared type
     * @param from a JSONPath of one field, or null for {@code $.<name>}
     */
    public static TargetColumn of(String name, String type, String from) {
        Identifiers.validate(name);
        if (name.contains(".")) {
            throw new IllegalArgumentException("column name '" + name + "' must not be qualified");
        }
        if (TargetSql.RESERVED.contains(name)) {
            throw new IllegalArgumentException("column name '" + name + "' is one of Tributary's own columns "
                    + TargetSql.RESERVED);
        }
        ColumnType parsed = ColumnType.parse(type);
        String path = from == null ? "$." + name : from.trim();
        return new TargetColumn(name, parsed, path, steps(path));
    }

    /** A column Tributary added for a new payload field: its value is that top-level field. */
    public static TargetColumn evolved(String name, ColumnType type) {
        return new TargetColumn(name, type, "$." + name, List.of(name));
    }

    /** The steps of a definite JSONPath: field names (String) and array indexes (Integer). */
    static List<Object> steps(String path) {
        JsonPath compiled;
        try {
            compiled = JsonPath.compile(path);
        } catch (InvalidPathException | IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + path + "' is not a JSONPath: " + e.getMessage());
        }
        if (!compiled.isDefinite()) {
            throw new IllegalArgumentException("'" + path + "' does not name one field (no wildcards, filters or deep "
                    + "scans)");
        }
        // The compiled form spells every step as ['name'] or [index].
        String canonical = compiled.getPath();
        if (!canonical.startsWith("$")) {
            throw new IllegalArgumentException("'" + path + "' must start at the root ($)");
        }
        List<Object> steps = new ArrayList<>();
        Matcher m = STEP.matcher(canonical);
        int at = 1;
        while (at < canonical.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("'" + path + "' must name fields and array indexes only");
            }
            steps.add(m.group(1) != null ? m.group(1).replaceAll("\\\\(.)", "$1") : Integer.valueOf(m.group(2)));
            at = m.end();
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("'" + path + "' names the whole payload, not a field");
        }
        return steps;
    }

    /** The payload's top-level field this column reads. */
    public String topField() {
        return steps.get(0) instanceof String s ? s : null;
    }

    /** The value at this column's field, or null when the payload does not have it. */
    public JsonNode read(JsonNode payload) {
        JsonNode at = payload;
        for (Object step : steps) {
            if (at == null) {
                return null;
            }
            at = step instanceof String field ? at.get(field) : at.get((Integer) step);
        }
        return at;
    }
}
