package tributary.clean;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.camel.support.DefaultExchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * One compiled rule. {@link #run} returns null when the record goes on, or the outcome that ends it (filtered or
 * DEAD). Reasons name the rule and the field, never a value: values are business data.
 */
abstract class Step {

    /** {@code rules[3] cast}: how reasons name the rule. */
    final String label;

    Step(String label) {
        this.label = label;
    }

    abstract CleanRules.Outcome run(Doc doc) throws Exception;

    CleanRules.Outcome dead(FieldPath field, String problem) {
        return CleanRules.Outcome.dead(label + ": field " + field + " " + problem);
    }

    /** Text of a scalar as JSON writes it: strings as they are, numbers by their JSON text. */
    static String text(JsonNode value) {
        return value.isBigDecimal() ? value.decimalValue().toString() : value.asText();
    }

    /** filter: records the condition matches are dropped; a condition on a field the record lacks does not match. */
    static final class Filter extends Step {
        private final CamelContext camel;
        private final Predicate when;

        Filter(String label, CamelContext camel, Predicate when) {
            super(label);
            this.camel = camel;
            this.when = when;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            Exchange exchange = new DefaultExchange(camel);
            exchange.getMessage().setBody(doc.text());
            try {
                return when.matches(exchange) ? CleanRules.Outcome.filtered(label) : null;
            } catch (RuntimeException e) {
                if (pathNotFound(e)) {
                    return null;
                }
                // The exception's message may quote the payload: only the fact is kept.
                return CleanRules.Outcome.dead(label + ": condition could not be evaluated");
            }
        }

        private static boolean pathNotFound(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof com.jayway.jsonpath.PathNotFoundException) {
                    return true;
                }
            }
            return false;
        }
    }

    /** rename: the value moves to {@code to} in the same object, at the same position; an absent field is left be. */
    static final class Rename extends Step {
        private final FieldPath field;
        private final String to;

        Rename(String label, FieldPath field, String to) {
            super(label);
            this.field = field;
            this.to = to;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            ObjectNode parent = field.parent(doc.root(), false);
            if (parent == null || !parent.has(field.name()) || field.name().equals(to)) {
                return null;
            }
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(parent.properties());
            parent.removeAll();
            for (Map.Entry<String, JsonNode> e : fields) {
                if (e.getKey().equals(field.name())) {
                    parent.set(to, e.getValue());
                } else if (!e.getKey().equals(to)) {
                    parent.set(e.getKey(), e.getValue());
                }
            }
            doc.changed();
            return null;
        }
    }

    /** drop: the fields are removed; absent ones are left be. */
    static final class Drop extends Step {
        private final List<FieldPath> fields;

        Drop(String label, List<FieldPath> fields) {
            super(label);
            this.fields = fields;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            for (FieldPath f : fields) {
                ObjectNode parent = f.parent(doc.root(), false);
                if (parent != null && parent.remove(f.name()) != null) {
                    doc.changed();
                }
            }
            return null;
        }
    }

    /** default: the value when the field is absent or null; missing parent objects are created. */
    static final class Default extends Step {
        private final FieldPath field;
        private final JsonNode value;

        Default(String label, FieldPath field, JsonNode value) {
            super(label);
            this.field = field;
            this.value = value;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            JsonNode current = field.get(doc.root());
            if (current != null && !current.isNull()) {
                return null;
            }
            ObjectNode parent = field.parent(doc.root(), true);
            if (parent == null) {
                return dead(field, "cannot be set: a parent of it is not an object");
            }
            parent.set(field.name(), value.deepCopy());
            doc.changed();
            return null;
        }
    }

    /** required: every field must be present and not null. */
    static final class Required extends Step {
        private final List<FieldPath> fields;

        Required(String label, List<FieldPath> fields) {
            super(label);
            this.fields = fields;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            for (FieldPath f : fields) {
                JsonNode v = f.get(doc.root());
                if (v == null || v.isNull()) {
                    return dead(f, "is missing or null");
                }
            }
            return null;
        }
    }

    /** cast: a string becomes a number, boolean or ISO date/time; absent and null pass. */
    static final class CastStep extends Step {
        private final FieldPath field;
        private final Cast cast;

        CastStep(String label, FieldPath field, Cast cast) {
            super(label);
            this.field = field;
            this.cast = cast;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            ObjectNode parent = field.parent(doc.root(), false);
            JsonNode v = parent == null ? null : parent.get(field.name());
            if (v == null || v.isNull()) {
                return null;
            }
            JsonNode cast = this.cast.apply(v);
            if (cast == null) {
                return dead(field, "cannot be cast to " + this.cast.as);
            }
            if (cast != v) {
                parent.set(field.name(), cast);
                doc.changed();
            }
            return null;
        }
    }

    /** trim, lowercase, uppercase: strings only; other values are left as they are. */
    static final class Text extends Step {
        private final List<FieldPath> fields;
        private final UnaryOperator<String> change;

        Text(String label, List<FieldPath> fields, String type) {
            super(label);
            this.fields = fields;
            this.change = switch (type) {
                case "trim" -> String::strip;
                case "lowercase" -> s -> s.toLowerCase(Locale.ROOT);
                default -> s -> s.toUpperCase(Locale.ROOT);
            };
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            for (FieldPath f : fields) {
                ObjectNode parent = f.parent(doc.root(), false);
                JsonNode v = parent == null ? null : parent.get(f.name());
                if (v != null && v.isTextual()) {
                    String changed = change.apply(v.asText());
                    if (!changed.equals(v.asText())) {
                        parent.set(f.name(), TextNode.valueOf(changed));
                        doc.changed();
                    }
                }
            }
            return null;
        }
    }

    /**
     * mask redact: the value becomes the text plus the last {@code keepLast} characters of the value's text, kept
     * only when the value is longer than that (a shorter value would show whole). Objects, arrays and booleans
     * become the text alone; null stays null.
     */
    static final class Redact extends Step {
        private final FieldPath field;
        private final String text;
        private final int keepLast;

        Redact(String label, FieldPath field, String text, int keepLast) {
            super(label);
            this.field = field;
            this.text = text;
            this.keepLast = keepLast;
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            ObjectNode parent = field.parent(doc.root(), false);
            JsonNode v = parent == null ? null : parent.get(field.name());
            if (v == null || v.isNull()) {
                return null;
            }
            String masked = text;
            if (keepLast > 0 && (v.isTextual() || v.isNumber())) {
                String s = text(v);
                int length = s.codePointCount(0, s.length());
                if (length > keepLast) {
                    masked += s.substring(s.offsetByCodePoints(0, length - keepLast));
                }
            }
            parent.set(field.name(), TextNode.valueOf(masked));
            doc.changed();
            return null;
        }
    }

    /**
     * mask hash: HMAC-SHA-256 of the value's text under the configured secret, as 64 lower-case hex digits. The same
     * value always gives the same token, so joins still work; without the secret it can be neither reversed nor
     * found by hashing a dictionary. Null stays null; objects and arrays cannot be hashed.
     */
    static final class Hash extends Step {
        private final FieldPath field;
        private final ThreadLocal<Mac> mac;

        Hash(String label, FieldPath field, byte[] secret) {
            super(label);
            this.field = field;
            SecretKeySpec key = new SecretKeySpec(secret, "HmacSHA256");
            this.mac = ThreadLocal.withInitial(() -> {
                try {
                    Mac m = Mac.getInstance("HmacSHA256");
                    m.init(key);
                    return m;
                } catch (java.security.GeneralSecurityException e) {
                    throw new IllegalStateException("HmacSHA256 is not available", e);
                }
            });
            mac.get();
        }

        @Override
        CleanRules.Outcome run(Doc doc) throws Exception {
            ObjectNode parent = field.parent(doc.root(), false);
            JsonNode v = parent == null ? null : parent.get(field.name());
            if (v == null || v.isNull()) {
                return null;
            }
            if (v.isContainerNode()) {
                return dead(field, "cannot be hashed: it is an object or array");
            }
            byte[] digest = mac.get().doFinal(text(v).getBytes(StandardCharsets.UTF_8));
            parent.set(field.name(), TextNode.valueOf(HexFormat.of().formatHex(digest)));
            doc.changed();
            return null;
        }
    }
}
