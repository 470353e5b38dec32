package tributary.testing;

import java.util.List;
import java.util.Optional;

import tributary.config.TributaryConfig;

/** A cleaning rule as configuration would give it, built in a test: {@code TestRule.of("mask").field("$.card")}. */
public final class TestRule implements TributaryConfig.Rule {

    private final String type;
    private String field;
    private List<String> fields;
    private String when;
    private String to;
    private String value;
    private String as;
    private String pattern;
    private String mode;
    private String text = "***";
    private int keepLast;
    private String secret;

    private TestRule(String type) {
        this.type = type;
    }

    public static TestRule of(String type) {
        return new TestRule(type);
    }

    public TestRule field(String field) {
        this.field = field;
        return this;
    }

    public TestRule fields(String... fields) {
        this.fields = List.of(fields);
        return this;
    }

    public TestRule when(String when) {
        this.when = when;
        return this;
    }

    public TestRule to(String to) {
        this.to = to;
        return this;
    }

    public TestRule value(String value) {
        this.value = value;
        return this;
    }

    public TestRule as(String as) {
        this.as = as;
        return this;
    }

    public TestRule pattern(String pattern) {
        this.pattern = pattern;
        return this;
    }

    public TestRule mode(String mode) {
        this.mode = mode;
        return this;
    }

    public TestRule text(String text) {
        this.text = text;
        return this;
    }

    public TestRule keepLast(int keepLast) {
        this.keepLast = keepLast;
        return this;
    }

    public TestRule secret(String secret) {
        this.secret = secret;
        return this;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public Optional<String> field() {
        return Optional.ofNullable(field);
    }

    @Override
    public Optional<List<String>> fields() {
        return Optional.ofNullable(fields);
    }

    @Override
    public Optional<String> when() {
        return Optional.ofNullable(when);
    }

    @Override
    public Optional<String> to() {
        return Optional.ofNullable(to);
    }

    @Override
    public Optional<String> value() {
        return Optional.ofNullable(value);
    }

    @Override
    public Optional<String> as() {
        return Optional.ofNullable(as);
    }

    @Override
    public Optional<String> pattern() {
        return Optional.ofNullable(pattern);
    }

    @Override
    public Optional<String> mode() {
        return Optional.ofNullable(mode);
    }

    @Override
    public String text() {
        return text;
    }

    @Override
    public int keepLast() {
        return keepLast;
    }

    @Override
    public Optional<String> secret() {
        return Optional.ofNullable(secret);
    }
}
