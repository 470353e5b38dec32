package tributary.sink;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A SQL type a target column may be declared with, and the conversion of a JSON value into it. Values travel to
 * PostgreSQL as canonical text and are cast there; this class refuses whatever that cast would refuse or change
 * silently (a varchar too long is truncated by a cast, a numeric too wide fails the whole batch), so a record that
 * does not fit is turned away alone, naming its field, before anything is written.
 */
public final class ColumnType {

    /** The kinds of type, with PostgreSQL's own name for each ({@code format_type}). */
    public enum Kind {
        TEXT("text"), VARCHAR("character varying"), SMALLINT("smallint"), INTEGER("integer"), BIGINT("bigint"),
        NUMERIC("numeric"), BOOLEAN("boolean"), DATE("date"), TIMESTAMP("timestamp without time zone"),
        TIMESTAMPTZ("timestamp with time zone"), UUID("uuid"), JSONB("jsonb");

        final String pgName;

        Kind(String pgName) {
            this.pgName = pgName;
        }
    }

    /** A value that cannot be written to its column; the message names types only, never the value. */
    public static final class Unfit extends Exception {
        public Unfit(String message) {
            super(message, null, false, false);
        }
    }

    private static final Pattern DECLARED = Pattern.compile(
            "\\s*([a-z][a-z0-9 ]*?)\\s*(?:\\(\\s*(\\d+)\\s*(?:,\\s*(\\d+)\\s*)?\\))?\\s*", Pattern.CASE_INSENSITIVE);
    private static final Pattern UUID_TEXT = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final BigInteger[] RANGE = { BigInteger.valueOf(Short.MIN_VALUE), BigInteger.valueOf(Short.MAX_VALUE),
            BigInteger.valueOf(Integer.MIN_VALUE), BigInteger.valueOf(Integer.MAX_VALUE),
            BigInteger.valueOf(Long.MIN_VALUE), BigInteger.valueOf(Long.MAX_VALUE) };

    private final Kind kind;
    private final int length;
    private final int precision;
    private final int scale;

    private ColumnType(Kind kind, int length, int precision, int scale) {
        this.kind = kind;
        this.length = length;
        this.precision = precision;
        this.scale = scale;
    }

    public static ColumnType of(Kind kind) {
        return new ColumnType(kind, -1, -1, -1);
    }

    /**
     * Parses a declared type: text, varchar(n), smallint, integer, bigint, numeric(p,s), numeric(p), numeric,
     * boolean, date, timestamp, timestamptz, uuid, jsonb, and PostgreSQL's own spellings and common aliases.
     */
    public static ColumnType parse(String declared) {
        Matcher m = DECLARED.matcher(declared == null ? "" : declared);
        if (!m.matches()) {
            throw new IllegalArgumentException("type '" + declared + "' is not one of " + known());
        }
        String name = m.group(1).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        Integer a = m.group(2) == null ? null : Integer.valueOf(m.group(2));
        Integer b = m.group(3) == null ? null : Integer.valueOf(m.group(3));
        Kind kind = switch (name) {
            case "text" -> Kind.TEXT;
            case "varchar", "character varying" -> Kind.VARCHAR;
            case "smallint", "int2" -> Kind.SMALLINT;
            case "integer", "int", "int4" -> Kind.INTEGER;
            case "bigint", "int8" -> Kind.BIGINT;
            case "numeric", "decimal" -> Kind.NUMERIC;
            case "boolean", "bool" -> Kind.BOOLEAN;
            case "date" -> Kind.DATE;
            case "timestamp", "timestamp without time zone" -> Kind.TIMESTAMP;
            case "timestamptz", "timestamp with time zone" -> Kind.TIMESTAMPTZ;
            case "uuid" -> Kind.UUID;
            case "jsonb" -> Kind.JSONB;
            default -> throw new IllegalArgumentException("type '" + declared + "' is not one of " + known());
        };
        if (kind == Kind.VARCHAR) {
            if (a == null || b != null || a < 1 || a > 10_485_760) {
                throw new IllegalArgumentException("type '" + declared + "' needs one length, 1 to 10485760: varchar(n)");
            }
            return new ColumnType(kind, a, -1, -1);
        }
        if (kind == Kind.NUMERIC) {
            if (a == null) {
                return new ColumnType(kind, -1, -1, -1);
            }
            int s = b == null ? 0 : b;
            if (a < 1 || a > 1000 || s > a) {
                throw new IllegalArgumentException("type '" + declared + "' needs a precision of 1 to 1000 and a scale "
                        + "of 0 to the precision: numeric(p,s)");
            }
            return new ColumnType(kind, -1, a, s);
        }
        if (a != null) {
            throw new IllegalArgumentException("type '" + declared + "' takes no length or precision");
        }
        return new ColumnType(kind, -1, -1, -1);
    }

    private static String known() {
        return "text, varchar(n), smallint, integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz, uuid, "
                + "jsonb";
    }

    public Kind kind() {
        return kind;
    }

    /** A varchar's length, else -1. */
    public int length() {
        return length;
    }

    /** A bounded numeric's precision, else -1. */
    public int precision() {
        return precision;
    }

    /** A bounded numeric's scale, else -1. */
    public int scale() {
        return scale;
    }

    /**
     * The type as PostgreSQL's {@code format_type} spells it, e.g. {@code numeric(12,2)},
     * {@code character varying(20)}, {@code timestamp with time zone}: what a table's column is compared with.
     */
    public String sql() {
        return switch (kind) {
            case VARCHAR -> kind.pgName + "(" + length + ")";
            case NUMERIC -> precision < 0 ? kind.pgName : kind.pgName + "(" + precision + "," + scale + ")";
            default -> kind.pgName;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ColumnType t && t.sql().equals(sql());
    }

    @Override
    public int hashCode() {
        return sql().hashCode();
    }

    @Override
    public String toString() {
        return sql();
    }

    /**
     * The type a new column gets from the first value seen for it: whole numbers bigint, other numbers numeric,
     * booleans boolean, objects and arrays jsonb, text timestamptz or timestamp when it parses as ISO-8601, else
     * text. Null when the value says nothing (null).
     */
    public static ColumnType infer(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return null;
        }
        if (v.isIntegralNumber()) {
            return v.canConvertToLong() ? of(Kind.BIGINT) : of(Kind.NUMERIC);
        }
        if (v.isNumber()) {
            return of(Kind.NUMERIC);
        }
        if (v.isBoolean()) {
            return of(Kind.BOOLEAN);
        }
        if (v.isContainerNode()) {
            return of(Kind.JSONB);
        }
        String text = v.asText();
        if (text.length() >= 16 && Character.isDigit(text.charAt(0))) {
            try {
                OffsetDateTime.parse(text);
                return of(Kind.TIMESTAMPTZ);
            } catch (DateTimeParseException e) {
                // not an instant with an offset
            }
            try {
                LocalDateTime.parse(text);
                return of(Kind.TIMESTAMP);
            } catch (DateTimeParseException e) {
                // plain text
            }
        }
        return of(Kind.TEXT);
    }

    /**
     * The value as the text PostgreSQL casts to this type, or null for JSON null or an absent field.
     *
     * @throws Unfit naming the value's JSON type and this type, never the value
     */
    public String convert(JsonNode v) throws Unfit {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return null;
        }
        switch (kind) {
            case JSONB:
                return v.toString();
            case TEXT:
                return scalarText(v);
            case VARCHAR: {
                String text = scalarText(v);
                if (text.codePointCount(0, text.length()) > length) {
                    throw unfit(v, "is longer than " + length + " characters");
                }
                return text;
            }
            case SMALLINT:
            case INTEGER:
            case BIGINT:
                return integer(v).toString();
            case NUMERIC:
                return numeric(v).toPlainString();
            case BOOLEAN:
                return bool(v) ? "true" : "false";
            case DATE:
                return LocalDate.parse(text(v, "an ISO date (2026-12-02)")).toString();
            case TIMESTAMP:
                return timestamp(v).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
            case TIMESTAMPTZ:
                return timestamptz(v).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            case UUID: {
                String text = text(v, "a UUID");
                if (!UUID_TEXT.matcher(text).matches()) {
                    throw unfit(v, "is not a UUID");
                }
                return text.toLowerCase(Locale.ROOT);
            }
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    private String scalarText(JsonNode v) throws Unfit {
        if (v.isContainerNode()) {
            throw unfit(v, "is not a scalar");
        }
        return v.isTextual() ? v.textValue() : v.isNumber() ? v.decimalValue().toPlainString() : v.asText();
    }

    private BigInteger integer(JsonNode v) throws Unfit {
        BigDecimal d = decimal(v);
        BigInteger i;
        try {
            i = d.stripTrailingZeros().toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw unfit(v, "is not a whole number");
        }
        int k = kind == Kind.SMALLINT ? 0 : kind == Kind.INTEGER ? 2 : 4;
        if (i.compareTo(RANGE[k]) < 0 || i.compareTo(RANGE[k + 1]) > 0) {
            throw unfit(v, "is out of range");
        }
        return i;
    }

    private BigDecimal numeric(JsonNode v) throws Unfit {
        BigDecimal d = decimal(v);
        if (precision < 0) {
            return d;
        }
        BigDecimal rounded = d.setScale(scale, RoundingMode.HALF_UP);
        // numeric(p,s) keeps p - s digits before the point; PostgreSQL rounds to s places first, as here.
        if (rounded.precision() - rounded.scale() > precision - scale && rounded.signum() != 0) {
            throw unfit(v, "has more than " + (precision - scale) + " digits before the decimal point");
        }
        return rounded;
    }

    private BigDecimal decimal(JsonNode v) throws Unfit {
        if (v.isNumber()) {
            if (v.isDouble() || v.isFloat()) {
                double x = v.doubleValue();
                if (Double.isNaN(x) || Double.isInfinite(x)) {
                    throw unfit(v, "is not a finite number");
                }
            }
            return v.decimalValue();
        }
        if (v.isTextual()) {
            String t = v.textValue().trim();
            try {
                if (!t.isEmpty() && t.length() <= 1100) {
                    return new BigDecimal(t);
                }
            } catch (NumberFormatException e) {
                // fall through
            }
            throw unfit(v, "is not a number");
        }
        throw unfit(v, "is not a number");
    }

    private boolean bool(JsonNode v) throws Unfit {
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isTextual()) {
            switch (v.textValue().trim().toLowerCase(Locale.ROOT)) {
                case "true", "t", "yes", "y", "1":
                    return true;
                case "false", "f", "no", "n", "0":
                    return false;
                default:
                    throw unfit(v, "is not a boolean");
            }
        }
        if (v.isIntegralNumber() && (v.asLong() == 0 || v.asLong() == 1) && v.canConvertToLong()) {
            return v.asLong() == 1;
        }
        throw unfit(v, "is not a boolean");
    }

    private LocalDateTime timestamp(JsonNode v) throws Unfit {
        String text = text(v, "an ISO date-time (2026-12-02T10:15:30)");
        try {
            return LocalDateTime.parse(text.replace(' ', 'T'));
        } catch (DateTimeParseException e) {
            throw unfit(v, "is not an ISO date-time without offset");
        }
    }

    private OffsetDateTime timestamptz(JsonNode v) throws Unfit {
        String text = text(v, "an ISO date-time with offset (2026-12-02T10:15:30Z)");
        try {
            return OffsetDateTime.parse(text.replace(' ', 'T'));
        } catch (DateTimeParseException e) {
            throw unfit(v, "is not an ISO date-time with offset");
        }
    }

    private String text(JsonNode v, String expected) throws Unfit {
        if (!v.isTextual()) {
            throw unfit(v, "is not " + expected);
        }
        if (kind == Kind.DATE) {
            try {
                LocalDate.parse(v.textValue());
            } catch (DateTimeParseException e) {
                throw unfit(v, "is not " + expected);
            }
        }
        return v.textValue();
    }

    private Unfit unfit(JsonNode v, String why) {
        return new Unfit("a JSON " + jsonType(v) + " value " + why + " for type " + sql());
    }

    /** The JSON type of a value, as reasons name it. */
    public static String jsonType(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "absent";
        }
        return switch (v.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> "number";
            case BOOLEAN -> "boolean";
            case OBJECT, POJO -> "object";
            case ARRAY -> "array";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }
}
