package tributary.config;

import java.util.regex.Pattern;

/** Validates and quotes SQL identifiers that come from configuration. */
public final class Identifiers {

    // Letters, digits and underscores, optionally schema-qualified: nothing that could carry SQL.
    private static final Pattern PART = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private Identifiers() {
    }

    /** Returns the identifier quoted for PostgreSQL, e.g. {@code sales.orders} → {@code "sales"."orders"}. */
    public static String quote(String identifier) {
        validate(identifier);
        StringBuilder quoted = new StringBuilder();
        for (String part : identifier.split("\\.", -1)) {
            if (quoted.length() > 0) {
                quoted.append('.');
            }
            quoted.append('"').append(part).append('"');
        }
        return quoted.toString();
    }

    /** Throws with a message naming the bad identifier unless it is a plain, optionally qualified name. */
    public static String validate(String identifier) {
        if (identifier == null || identifier.isEmpty()) {
            throw new IllegalArgumentException("SQL identifier is empty");
        }
        String[] parts = identifier.split("\\.", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("SQL identifier '" + identifier + "' has more than schema.name");
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                throw new IllegalArgumentException("SQL identifier '" + identifier
                        + "' is not allowed: use letters, digits and underscores, starting with a letter or underscore");
            }
        }
        return identifier;
    }

    /** The unqualified last part, e.g. for deriving index and view names. */
    public static String simpleName(String identifier) {
        validate(identifier);
        int dot = identifier.lastIndexOf('.');
        return dot < 0 ? identifier : identifier.substring(dot + 1);
    }
}
