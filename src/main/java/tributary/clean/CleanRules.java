package tributary.clean;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.camel.CamelContext;
import org.apache.camel.Predicate;

import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.JsonPath;

import tributary.config.TributaryConfig;

/**
 * A pipeline's cleaning rules, compiled and validated at start-up and run in collect on every upsert before it is
 * sealed, so Kafka, the spool and the target only see cleaned data.
 *
 * <p>
 * Fields are named by Jayway JsonPath paths that select one field by property names: {@code $.email},
 * {@code $.customer.email}, {@code $['a b']}. Filter conditions use Camel's {@code jsonpath} language (Jayway's
 * syntax) on the payload at that point of the rules: a record matches when the path selects something, e.g.
 * {@code $[?(@.status == 'test')]}, {@code $[?(@.amount < 0 || @.customer.country in ['XX','YY'])]}. Camel's simple
 * placeholders and "easy predicates" are off, so a condition means exactly what JsonPath says; a condition on a field
 * the record lacks does not match.
 *
 * <p>
 * Every outcome names the rule ({@code rules[3] required}) and the field, never a value.
 */
public final class CleanRules {

    public static final List<String> TYPES = List.of("filter", "rename", "drop", "default", "required", "cast", "mask",
            "trim", "lowercase", "uppercase");
    private static final Set<String> MULTI_FIELD = Set.of("drop", "required", "trim", "lowercase", "uppercase");
    /** The options each type takes besides field/fields (text and keep-last have defaults and are not checked). */
    private static final Map<String, Set<String>> OPTIONS = Map.of("filter", Set.of("when"), "rename", Set.of("to"),
            "default", Set.of("value"), "cast", Set.of("as", "pattern"), "mask", Set.of("mode", "secret"));
    /** A field name without JSONPath syntax: no $, dots, brackets or quotes, and no surrounding spaces. */
    private static final Pattern PLAIN_NAME = Pattern.compile("[^$.\\[\\]'\"]+");
    static final int MIN_SECRET_BYTES = 16;

    private static final CleanRules NONE = new CleanRules(List.of());

    private final List<Step> steps;

    private CleanRules(List<Step> steps) {
        this.steps = steps;
    }

    /** What the rules made of one payload: exactly one of the cleaned payload, the filter, or the DEAD reason. */
    public record Outcome(String payload, String filteredBy, String deadReason) {

        static Outcome filtered(String rule) {
            return new Outcome(null, rule, null);
        }

        static Outcome dead(String reason) {
            return new Outcome(null, null, reason);
        }
    }

    public static CleanRules none() {
        return NONE;
    }

    /**
     * @param camel resolves the {@code jsonpath} language for filter conditions; only needed when there is a filter
     * @throws IllegalArgumentException whose message starts with the key at fault,
     *         {@code tributary.pipelines.<pipeline>.clean.rules[i].<option>}
     */
    public static CleanRules compile(String pipeline, List<? extends TributaryConfig.Rule> rules, CamelContext camel) {
        if (rules == null || rules.isEmpty()) {
            return NONE;
        }
        List<Step> steps = new ArrayList<>(rules.size());
        for (int i = 0; i < rules.size(); i++) {
            String key = "tributary.pipelines." + pipeline + ".clean.rules[" + i + "].";
            try {
                steps.add(compile(i, rules.get(i), camel));
            } catch (BadOption e) {
                throw new IllegalArgumentException(key + e.option + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(key.substring(0, key.length() - 1) + ": " + e.getMessage(), e);
            }
        }
        return new CleanRules(List.copyOf(steps));
    }

    private static Step compile(int index, TributaryConfig.Rule rule, CamelContext camel) {
        String type = rule.type() == null ? "" : rule.type().strip().toLowerCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
            throw new BadOption("type", "'" + rule.type() + "' is not a rule type; use one of " + String.join(", ",
                    TYPES));
        }
        checkOptions(type, rule);
        String label = "rules[" + index + "] " + type;
        if (type.equals("filter")) {
            return new Step.Filter(label, camel, condition(rule.when(), camel));
        }
        List<FieldPath> fields = fields(type, rule);
        FieldPath field = fields.get(0);
        return switch (type) {
            case "rename" -> new Step.Rename(label, field, plainName(rule.to()));
            case "drop" -> new Step.Drop(label, fields);
            case "default" -> new Step.Default(label, field,
                    Doc.value(rule.value().orElseThrow(() -> new BadOption("value", "missing: the default value"))));
            case "required" -> new Step.Required(label, fields);
            case "cast" -> new Step.CastStep(label, field, new Cast(rule.as().map(a -> a.strip().toLowerCase(Locale.ROOT))
                    .orElseThrow(() -> new BadOption("as", "missing: one of " + String.join(", ", Cast.TYPES))),
                    rule.pattern().orElse(null)));
            case "mask" -> mask(label, field, rule);
            default -> new Step.Text(label, fields, type);
        };
    }

    /** An option set that the type does not use is most likely a mistake: it fails rather than being ignored. */
    private static void checkOptions(String type, TributaryConfig.Rule rule) {
        Set<String> allowed = OPTIONS.getOrDefault(type, Set.of());
        Map<String, Optional<?>> options = new LinkedHashMap<>();
        options.put("when", rule.when());
        options.put("to", rule.to());
        options.put("value", rule.value());
        options.put("as", rule.as());
        options.put("pattern", rule.pattern());
        options.put("mode", rule.mode());
        options.put("secret", rule.secret());
        options.forEach((option, value) -> {
            if (value.isPresent() && !allowed.contains(option)) {
                throw new BadOption(option, "not used by a " + type + " rule");
            }
        });
        if (type.equals("filter") && (rule.field().isPresent() || rule.fields().isPresent())) {
            throw new BadOption(rule.field().isPresent() ? "field" : "fields",
                    "not used by a filter rule; its condition is in when");
        }
        if (!MULTI_FIELD.contains(type) && rule.fields().isPresent()) {
            throw new BadOption("fields", "a " + type + " rule works on one field: use field");
        }
    }

    private static List<FieldPath> fields(String type, TributaryConfig.Rule rule) {
        List<FieldPath> fields = new ArrayList<>();
        rule.field().ifPresent(f -> fields.add(field("field", f)));
        rule.fields().ifPresent(list -> list.forEach(f -> fields.add(field("fields", f))));
        if (fields.isEmpty()) {
            throw new BadOption("field", "missing: a " + type + " rule needs the field it works on, e.g. "
                    + "field=$.email" + (MULTI_FIELD.contains(type) ? " or fields=$.a,$.b" : ""));
        }
        return fields;
    }

    private static FieldPath field(String option, String path) {
        try {
            return FieldPath.compile(path);
        } catch (IllegalArgumentException e) {
            throw new BadOption(option, e.getMessage());
        }
    }

    private static String plainName(Optional<String> to) {
        String name = to.orElseThrow(() -> new BadOption("to", "missing: the field's new name"));
        if (!PLAIN_NAME.matcher(name).matches() || !name.equals(name.strip())) {
            throw new BadOption("to", "'" + name + "' is not a plain field name (no JSONPath, dots, brackets, "
                    + "quotes or surrounding spaces): the field is renamed within its object");
        }
        return name;
    }

    private static Predicate condition(Optional<String> when, CamelContext camel) {
        String expression = when.filter(w -> !w.isBlank())
                .orElseThrow(() -> new BadOption("when", "missing: the condition of records to drop, e.g. "
                        + "$[?(@.status == 'test')]"))
                .strip();
        try {
            // Camel compiles the expression at its first use only: compile it now so a mistake fails at start-up.
            JsonPath.compile(expression);
        } catch (InvalidPathException | IllegalArgumentException e) {
            throw new BadOption("when", "'" + expression + "' is not a valid JSONPath condition (" + e.getMessage()
                    + ")");
        }
        if (camel == null) {
            throw new IllegalStateException("a filter rule needs the CamelContext for its jsonpath language");
        }
        // resultType, source, suppressExceptions, allowSimple, allowEasyPredicate, writeAsString, unpackArray, options
        return camel.resolveLanguage("jsonpath").createPredicate(expression,
                new Object[] { null, null, false, false, false, false, false, null });
    }

    private static Step mask(String label, FieldPath field, TributaryConfig.Rule rule) {
        String mode = rule.mode().map(m -> m.strip().toLowerCase(Locale.ROOT))
                .orElseThrow(() -> new BadOption("mode", "missing: redact or hash"));
        switch (mode) {
            case "redact" -> {
                if (rule.secret().isPresent()) {
                    throw new BadOption("secret", "not used by mask redact");
                }
                if (rule.keepLast() < 0) {
                    throw new BadOption("keep-last", "must be 0 or more");
                }
                return new Step.Redact(label, field, rule.text(), rule.keepLast());
            }
            case "hash" -> {
                // Never quote the secret, nor its length, in a message.
                byte[] secret = rule.secret().filter(s -> !s.isEmpty())
                        .orElseThrow(() -> new BadOption("secret", "missing: mask hash needs a secret of at least "
                                + MIN_SECRET_BYTES + " bytes"))
                        .getBytes(StandardCharsets.UTF_8);
                if (secret.length < MIN_SECRET_BYTES) {
                    throw new BadOption("secret", "too short: mask hash needs a secret of at least "
                            + MIN_SECRET_BYTES + " bytes");
                }
                return new Step.Hash(label, field, secret);
            }
            default -> throw new BadOption("mode", "'" + rule.mode().get() + "' is not a mask mode; use redact or "
                    + "hash");
        }
    }

    public boolean isEmpty() {
        return steps.isEmpty();
    }

    /** Runs the rules on an upsert's payload, a JSON object. Deletes never go through the rules. */
    public Outcome apply(String payloadJson) {
        Doc doc = new Doc(payloadJson);
        for (Step step : steps) {
            try {
                Outcome end = step.run(doc);
                if (end != null) {
                    return end;
                }
            } catch (Exception e) {
                // Parser and generator messages quote the payload: only the kind of failure is kept.
                return Outcome.dead(step.label + ": the payload could not be processed ("
                        + e.getClass().getSimpleName() + ")");
            }
        }
        try {
            return new Outcome(doc.text(), null, null);
        } catch (Exception e) {
            return Outcome.dead("clean rules: the cleaned payload could not be written (" + e.getClass().getSimpleName()
                    + ")");
        }
    }
}
