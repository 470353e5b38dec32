package tributary.clean;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * A cast of text to a JSON number, boolean or ISO date/time text. Only strings are cast; a value already of the
 * target JSON type passes unchanged. {@link #apply} returns null when the text does not parse.
 */
final class Cast {

    static final List<String> TYPES = List.of("number", "integer", "boolean", "date", "timestamp", "timestamptz");

    /** Digits with an optional sign, one decimal point and exponent; thousands separators are not accepted. */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d{1,4})?");
    private static final int MAX_DIGITS = 1000;

    final String as;
    private final char decimalSeparator;
    private final String trueWord;
    private final String falseWord;
    private final DateTimeFormatter format;

    /** @throws IllegalArgumentException for an unknown {@code as} (key {@code as}) or a bad pattern (key {@code pattern}) */
    Cast(String as, String pattern) {
        this.as = as;
        char separator = '.';
        String yes = "true";
        String no = "false";
        DateTimeFormatter fmt = null;
        switch (as) {
            case "number", "integer" -> {
                if (pattern != null) {
                    if (!pattern.equals(".") && !pattern.equals(",")) {
                        throw new BadOption("pattern", "for a number cast the pattern is the decimal separator, "
                                + "'.' or ','");
                    }
                    separator = pattern.charAt(0);
                }
            }
            case "boolean" -> {
                if (pattern != null) {
                    String[] words = pattern.split("/", -1);
                    if (words.length != 2 || words[0].isBlank() || words[1].isBlank()
                            || words[0].strip().equalsIgnoreCase(words[1].strip())) {
                        throw new BadOption("pattern", "for a boolean cast the pattern is the true and the false "
                                + "word, e.g. yes/no");
                    }
                    yes = words[0].strip();
                    no = words[1].strip();
                }
            }
            case "date", "timestamp", "timestamptz" -> fmt = pattern == null ? iso(as) : formatter(pattern);
            default -> throw new BadOption("as", "'" + as + "' is not a cast type; use one of " + String.join(", ", TYPES));
        }
        this.decimalSeparator = separator;
        this.trueWord = yes;
        this.falseWord = no;
        this.format = fmt;
    }

    private static DateTimeFormatter iso(String as) {
        return switch (as) {
            case "date" -> DateTimeFormatter.ISO_LOCAL_DATE;
            case "timestamp" -> DateTimeFormatter.ISO_LOCAL_DATE_TIME;
            default -> DateTimeFormatter.ISO_DATE_TIME;
        };
    }

    /**
     * Strict, so 31.02. is refused rather than moved to the end of February; the era defaults to AD so that the
     * common {@code yyyy} works under strict resolution.
     */
    private static DateTimeFormatter formatter(String pattern) {
        try {
            return new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern(pattern)
                    .parseDefaulting(ChronoField.ERA, 1).toFormatter(Locale.ROOT).withResolverStyle(ResolverStyle.STRICT);
        } catch (IllegalArgumentException e) {
            throw new BadOption("pattern", "'" + pattern + "' is not a valid DateTimeFormatter pattern (" + e.getMessage()
                    + ")");
        }
    }

    /** The cast value, the value itself when no cast is needed, or null when it cannot be cast. */
    JsonNode apply(JsonNode value) {
        return switch (as) {
            case "number" -> value.isNumber() ? value : value.isTextual() ? number(value.asText()) : null;
            case "integer" -> value.isIntegralNumber() ? value
                    : value.isNumber() ? integer(value.decimalValue())
                    : value.isTextual() ? integerText(value.asText()) : null;
            case "boolean" -> value.isBoolean() ? value : value.isTextual() ? bool(value.asText().strip()) : null;
            default -> value.isTextual() ? dateTime(value.asText().strip()) : null;
        };
    }

    private BigDecimal decimal(String text) {
        String t = text.strip();
        if (t.length() > MAX_DIGITS || decimalSeparator != '.' && t.indexOf('.') >= 0) {
            return null;
        }
        t = t.replace(decimalSeparator, '.');
        return NUMBER.matcher(t).matches() ? new BigDecimal(t) : null;
    }

    private JsonNode number(String text) {
        BigDecimal d = decimal(text);
        return d == null ? null : DecimalNode.valueOf(d);
    }

    private JsonNode integerText(String text) {
        BigDecimal d = decimal(text);
        return d == null ? null : integer(d);
    }

    /** A whole number (12 or 12.0), or null; the digit bound keeps 1e9999 from growing into a huge integer. */
    private static JsonNode integer(BigDecimal d) {
        if (d.precision() - d.scale() > MAX_DIGITS) {
            return null;
        }
        try {
            BigInteger i = d.toBigIntegerExact();
            return i.bitLength() < 64 ? LongNode.valueOf(i.longValue()) : BigIntegerNode.valueOf(i);
        } catch (ArithmeticException e) {
            return null;
        }
    }

    private JsonNode bool(String text) {
        if (text.equalsIgnoreCase(trueWord)) {
            return BooleanNode.TRUE;
        }
        return text.equalsIgnoreCase(falseWord) ? BooleanNode.FALSE : null;
    }

    private JsonNode dateTime(String text) {
        try {
            return TextNode.valueOf(switch (as) {
                case "date" -> LocalDate.from(format.parse(text)).format(DateTimeFormatter.ISO_LOCAL_DATE);
                case "timestamp" -> LocalDateTime.from(format.parse(text)).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
                default -> offset(format.parse(text)).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            });
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    private static OffsetDateTime offset(TemporalAccessor parsed) {
        if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
            return OffsetDateTime.from(parsed);
        }
        return ZonedDateTime.from(parsed).toOffsetDateTime();
    }

}
