package tributary.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.hibernate.validator.messageinterpolation.ParameterMessageInterpolator;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.validator.BeanValidationConfigValidator;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import tributary.jdbc.Datasources;
import tributary.pipeline.Pipelines;

/** Configuration mistakes fail at start-up with a message that names the key. */
class ConfigValidationTest {

    private static final Validator VALIDATOR = Validation.byDefaultProvider().configure()
            .messageInterpolator(new ParameterMessageInterpolator()).buildValidatorFactory().getValidator();

    private static Map<String, String> valid() {
        Map<String, String> c = new HashMap<>();
        c.put("tributary.kafka.brokers", "127.0.0.1:9092");
        c.put("tributary.crypto.active-key", "k1");
        c.put("tributary.crypto.keys.k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        c.put("tributary.datasources.src.url", "jdbc:postgresql://127.0.0.1:1/db");
        c.put("tributary.datasources.dst.url", "jdbc:postgresql://127.0.0.1:1/db");
        c.put("tributary.pipelines.orders.source.datasource", "src");
        c.put("tributary.pipelines.orders.target.datasource", "dst");
        c.put("tributary.pipelines.orders.target.table", "orders");
        try {
            // A spool of its own per build: a process holds its spool directory locked.
            c.put("tributary.spool.dir", java.nio.file.Files.createTempDirectory("config-test-spool").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return c;
    }

    private static TributaryConfig config(Map<String, String> values) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(TributaryConfig.class)
                // As at run time, where Hibernate Validator checks the mapping's declared constraints.
                .withValidator((BeanValidationConfigValidator) () -> VALIDATOR)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build();
        return config.getConfigMapping(TributaryConfig.class);
    }

    private static Pipelines pipelines(Map<String, String> values) {
        TributaryConfig config = config(values);
        return new Pipelines(config, new Datasources(config), new org.apache.camel.impl.DefaultCamelContext());
    }

    @Test
    void aValidConfigurationBuildsItsPipelinesWithDefaults() {
        Pipelines p = pipelines(valid());
        assertEquals("tributary.orders", p.get("orders").topic());
        assertEquals(1000, p.get("orders").config().batchSize());
        assertEquals("tributary_outbox", p.get("orders").config().source().table());
    }

    private static String failure(String key, String value) {
        Map<String, String> c = valid();
        if (value == null) {
            c.remove(key);
        } else {
            c.put(key, value);
        }
        Exception e = assertThrows(Exception.class, () -> pipelines(c));
        return e.getMessage();
    }

    @Test
    void aSecondProcessOnTheSameSpoolFailsNamingTheDirectoryAndTheHolder() {
        Map<String, String> c = valid();
        c.put("tributary.node-id", "replica-a");
        Pipelines first = pipelines(c);
        c.put("tributary.node-id", "replica-b");
        String message = assertThrows(Exception.class, () -> pipelines(c)).getMessage();
        assertTrue(message.contains(c.get("tributary.spool.dir")) && message.contains("in use by another process")
                && message.contains("node replica-a"), message);
        assertEquals("tributary.orders", first.get("orders").topic());
    }

    @Test
    void mistakesNameWhatIsWrong() {
        assertTrue(failure("tributary.pipelines.orders.source.datasource", "nope").contains("datasource 'nope'"));
        String injected = failure("tributary.pipelines.orders.target.table", "analytics.x;DROP TABLE accounts");
        assertTrue(injected.startsWith("tributary.pipelines.orders.target.table: SQL identifier 'analytics.x;DROP TABLE "
                + "accounts' is not allowed"), injected);
        String longName = "t".repeat(60);
        String tooLong = failure("tributary.pipelines.orders.target.table", longName);
        assertTrue(tooLong.startsWith("tributary.pipelines.orders.target.table: SQL identifier '" + longName + "_live'")
                || tooLong.startsWith("tributary.pipelines.orders.target.table: SQL identifier '" + longName + "_tombstones'"),
                "derived names are not truncated silently: " + tooLong);
        assertTrue(failure("tributary.pipelines.orders.source.columns.key", "a b")
                .startsWith("tributary.pipelines.orders.source.table or tributary.pipelines.orders.source.columns.*"));
        assertTrue(failure("tributary.pipelines.orders.source.columns.key", "a b").contains("a b"));
        assertTrue(failure("tributary.datasources.src.url", "jdbc:mysql://x/y").contains("jdbc:postgresql:"));
        assertTrue(failure("tributary.pipelines.orders.batch-size", "0").contains("batch-size"));
        assertTrue(failure("tributary.pipelines.orders.source.layout", "kafka-connect").contains("layout"));
        assertTrue(failure("tributary.kafka.brokers", null).contains("tributary.kafka.brokers"));
        String retention = failure("tributary.pipelines.orders.retention.tombstones", "1d");
        assertTrue(retention.contains("tributary.pipelines.orders.retention.tombstones (PT24H) must be longer than "
                + "tributary.pipelines.orders.retention.dead (PT720H)"), retention);
        assertTrue(failure("tributary.pipelines.orders.ack-timeout", "40d").contains("ack-timeout"));
        for (String[] range : new String[][] { { "tributary.health.interval", "0" }, { "tributary.kafka.consumers", "0" },
                { "tributary.pipelines.orders.retention.batch-size", "0" }, { "tributary.pipelines.orders.max-attempts", "0" },
                { "tributary.health.recover-after", "0" }, { "tributary.pipelines.orders.batch-size", "10001" },
                { "tributary.pipelines.orders.lease", "0s" }, { "tributary.spool.max-bytes", "10" },
                { "tributary.pipelines.orders.key-slices", "0" }, { "tributary.pipelines.orders.key-slices", "257" },
                { "tributary.pipelines.orders.collect-workers", "17" }, { "tributary.pipelines.orders.poll.hold", "-1s" } }) {
            String message = failure(range[0], range[1]);
            assertTrue(message.contains(range[0]), range[0] + "=" + range[1] + ": " + message);
        }
        Map<String, String> shared = valid();
        shared.put("tributary.pipelines.refunds.source.datasource", "src");
        shared.put("tributary.pipelines.refunds.target.datasource", "dst");
        shared.put("tributary.pipelines.refunds.target.table", "refunds");
        shared.put("tributary.pipelines.refunds.topic", "tributary.orders");
        String sharedTopic = assertThrows(Exception.class, () -> pipelines(shared)).getMessage();
        assertTrue(sharedTopic.contains("tributary.pipelines.refunds.topic") && sharedTopic.contains("'orders'"), sharedTopic);
        String type = failure("tributary.pipelines.orders.target.columns.amount.type", "money");
        assertTrue(type.startsWith("tributary.pipelines.orders.target.columns: column amount "
                + "(tributary.pipelines.orders.target.columns.amount.*): type 'money' is not one of"), type);
        Map<String, String> badFrom = valid();
        badFrom.put("tributary.pipelines.orders.target.columns.amount.type", "numeric(12,2)");
        badFrom.put("tributary.pipelines.orders.target.columns.amount.from", "$.lines[*].amount");
        String from = assertThrows(Exception.class, () -> pipelines(badFrom)).getMessage();
        assertTrue(from.contains("tributary.pipelines.orders.target.columns.amount.*") && from.contains("does not name one "
                + "field"), from);
        assertTrue(failure("tributary.pipelines.orders.target.columns.version.type", "bigint")
                .contains("column version (tributary.pipelines.orders.target.columns.version.*)"));
        String evolution = failure("tributary.pipelines.orders.target.evolution", "add-column");
        assertTrue(evolution.contains("tributary.pipelines.orders.target.evolution=add-column needs typed columns"),
                evolution);
        Map<String, String> badPolicy = valid();
        badPolicy.put("tributary.pipelines.orders.target.columns.amount.type", "numeric(12,2)");
        badPolicy.put("tributary.pipelines.orders.target.evolution", "guess");
        String policy = assertThrows(Exception.class, () -> pipelines(badPolicy)).getMessage();
        assertTrue(policy.contains("tributary.pipelines.orders.target.evolution: 'guess' is not one of ignore, add-column, "
                + "fail"), policy);
        assertTrue(failure("tributary.pipelines.orders.target.keep-payload", "false")
                .contains("tributary.pipelines.orders.target.keep-payload=false needs typed columns"));
        Map<String, String> badName = valid();
        badName.put("tributary.pipelines.Bad_Name.source.datasource", "src");
        badName.put("tributary.pipelines.Bad_Name.target.datasource", "dst");
        badName.put("tributary.pipelines.Bad_Name.target.table", "t");
        assertTrue(assertThrows(Exception.class, () -> pipelines(badName)).getMessage().contains("Bad_Name"));
    }

    @Test
    void cleaningRulesAreReadFromPropertiesAndTheirMistakesNameTheKey() {
        Map<String, String> c = valid();
        String rules = "tributary.pipelines.orders.clean.rules";
        c.put(rules + "[0].type", "filter");
        c.put(rules + "[0].when", "$[?(@.status == 'test')]");
        c.put(rules + "[1].type", "mask");
        c.put(rules + "[1].field", "$.customer.id");
        c.put(rules + "[1].mode", "hash");
        c.put(rules + "[1].secret", "a-secret-of-more-than-16-bytes");
        c.put(rules + "[2].type", "drop");
        c.put(rules + "[2].fields", "$.a,$['b c']");
        var clean = pipelines(c).get("orders").clean();
        assertEquals("rules[0] filter", clean.apply("{\"status\": \"test\"}").filteredBy());
        assertEquals("{\"status\":\"live\"}", clean.apply("{\"status\": \"live\", \"a\": 1, \"b c\": 2}").payload());
        // A spool of its own per build: the pipelines above still hold theirs.
        c.put("tributary.spool.dir", valid().get("tributary.spool.dir"));
        c.put(rules + "[2].fields", "$.a,$..b");
        String message = assertThrows(Exception.class, () -> pipelines(c)).getMessage();
        assertTrue(message.startsWith(rules + "[2].fields: '$..b' is not a definite JSONPath"), message);
        c.put(rules + "[2].fields", "$.a");
        c.put(rules + "[1].secret", "short-secret");
        c.put("tributary.spool.dir", valid().get("tributary.spool.dir"));
        message = assertThrows(Exception.class, () -> pipelines(c)).getMessage();
        assertTrue(message.startsWith(rules + "[1].secret: too short"), message);
        assertTrue(!message.contains("short-secret"), message);
    }
}
