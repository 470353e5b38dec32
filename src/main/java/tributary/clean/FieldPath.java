package tributary.clean;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.internal.Path;
import com.jayway.jsonpath.internal.path.CompiledPath;
import com.jayway.jsonpath.internal.path.PathCompiler;
import com.jayway.jsonpath.internal.path.PathToken;
import com.jayway.jsonpath.internal.path.PropertyPathToken;

/**
 * A JSONPath naming one field of the payload ({@code $.customer.email}, {@code $['a b']}), compiled by Jayway
 * JsonPath and resolved to its property names, so rules work on the parsed object directly and keep its field order.
 */
record FieldPath(String text, List<String> names) {

    /** Compiles a definite path of property names; anything else fails with the reason. */
    static FieldPath compile(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("missing: name the field as a JSONPath, e.g. $.customer.email");
        }
        Path path;
        try {
            path = PathCompiler.compile(text.strip());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("'" + text + "' is not a valid JSONPath (" + e.getMessage() + ")");
        }
        if (!path.isDefinite() || !(path instanceof CompiledPath compiled)) {
            throw new IllegalArgumentException("'" + text + "' is not a definite JSONPath: it must name one field");
        }
        List<String> names = new ArrayList<>();
        for (PathToken t = compiled.getRoot().getNext(); t != null; t = t.getNext()) {
            if (!(t instanceof PropertyPathToken p) || !p.singlePropertyCase()) {
                throw new IllegalArgumentException("'" + text + "' must name one field by property names "
                        + "(e.g. $.customer.email or $['a b']), without array indexes or functions");
            }
            names.add(p.getProperties().get(0));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names the whole payload, not a field");
        }
        return new FieldPath(text.strip(), List.copyOf(names));
    }

    String name() {
        return names.get(names.size() - 1);
    }

    /** The field's value (possibly a JSON null), or null when the field or one of its parents is absent. */
    JsonNode get(ObjectNode root) {
        ObjectNode parent = parent(root, false);
        return parent == null ? null : parent.get(name());
    }

    /**
     * The object holding the field, or null when a parent is absent (and not created) or is not an object. With
     * {@code create}, absent or null parents are created as empty objects.
     */
    ObjectNode parent(ObjectNode root, boolean create) {
        ObjectNode node = root;
        for (int i = 0; i < names.size() - 1; i++) {
            JsonNode next = node.get(names.get(i));
            if ((next == null || next.isNull()) && create) {
                next = node.putObject(names.get(i));
            }
            if (next == null || !next.isObject()) {
                return null;
            }
            node = (ObjectNode) next;
        }
        return node;
    }

    @Override
    public String toString() {
        return text;
    }
}
