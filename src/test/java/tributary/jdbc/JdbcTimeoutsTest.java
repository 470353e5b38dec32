package tributary.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import tributary.config.TributaryConfig;

/** The datasource and probe timeouts: defaults, their PgJDBC form, and mistakes that fail naming the key. */
class JdbcTimeoutsTest {

    private static Map<String, String> valid() {
        Map<String, String> c = new HashMap<>();
        c.put("tributary.kafka.brokers", "127.0.0.1:9092");
        c.put("tributary.crypto.active-key", "k1");
        c.put("tributary.crypto.keys.k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        c.put("tributary.datasources.dst.url", "jdbc:postgresql://127.0.0.1:1/db");
        return c;
    }

    private static TributaryConfig config(Map<String, String> values) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(TributaryConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(values, "test", 100)).build();
        return config.getConfigMapping(TributaryConfig.class);
    }

    private static String failure(String key, String value) {
        Map<String, String> c = valid();
        c.put(key, value);
        return assertThrows(IllegalArgumentException.class, () -> new Datasources(config(c))).getMessage();
    }

    @Test
    void defaultsBoundEveryWaitAndHideServerDetail() {
        JdbcTimeouts t = JdbcTimeouts.of("dst", config(valid()).datasources().get("dst"));
        assertEquals(Map.of("connectTimeout", "5", "loginTimeout", "10", "socketTimeout", "30",
                "logServerErrorDetail", "false"), t.jdbcProperties());
        assertEquals(Optional.of("SET statement_timeout = 20000"), t.initialSql());
        JdbcTimeouts probe = JdbcTimeouts.probe(config(valid()).health().probeTimeout());
        assertEquals(Map.of("connectTimeout", "2", "loginTimeout", "2", "socketTimeout", "2",
                "logServerErrorDetail", "false"), probe.jdbcProperties());
        assertEquals(Optional.empty(), probe.initialSql());
    }

    @Test
    void configuredValuesReachPgJdbc() {
        Map<String, String> c = valid();
        c.put("tributary.datasources.dst.connect-timeout", "3s");
        c.put("tributary.datasources.dst.login-timeout", "4");
        c.put("tributary.datasources.dst.socket-timeout", "1m");
        c.put("tributary.datasources.dst.statement-timeout", "1500ms");
        c.put("tributary.health.probe-timeout", "3s");
        TributaryConfig config = config(c);
        JdbcTimeouts t = JdbcTimeouts.of("dst", config.datasources().get("dst"));
        assertEquals(Map.of("connectTimeout", "3", "loginTimeout", "4", "socketTimeout", "60",
                "logServerErrorDetail", "false"), t.jdbcProperties());
        assertEquals(Optional.of("SET statement_timeout = 1500"), t.initialSql());
        assertEquals("3", JdbcTimeouts.probe(config.health().probeTimeout()).jdbcProperties().get("socketTimeout"));
    }

    @Test
    void aZeroStatementTimeoutLeavesTheServersSetting() {
        Map<String, String> c = valid();
        c.put("tributary.datasources.dst.statement-timeout", "0");
        assertEquals(Optional.empty(), JdbcTimeouts.of("dst", config(c).datasources().get("dst")).initialSql());
    }

    @Test
    void mistakesFailAtStartUpNamingTheKey() {
        String ds = "tributary.datasources.dst.";
        for (String key : new String[] { "connect-timeout", "login-timeout", "socket-timeout" }) {
            assertTrue(failure(ds + key, "0").contains(ds + key), key + " of 0");
            assertTrue(failure(ds + key, "1500ms").contains(ds + key), key + " with a fraction of a second");
            assertTrue(failure(ds + key, "2h").contains(ds + key), key + " above the limit");
            assertTrue(failure(ds + key, "-1s").contains(ds + key), key + " negative");
        }
        assertTrue(failure(ds + "statement-timeout", "-1s").contains(ds + "statement-timeout"));
        assertTrue(failure(ds + "statement-timeout", "2h").contains(ds + "statement-timeout"));
        String longer = failure(ds + "statement-timeout", "30s");
        assertTrue(longer.contains(ds + "statement-timeout") && longer.contains(ds + "socket-timeout"), longer);
        assertTrue(failure("tributary.health.probe-timeout", "0").contains("tributary.health.probe-timeout"));
        assertTrue(failure("tributary.health.probe-timeout", "500ms").contains("tributary.health.probe-timeout"));
    }

    @Test
    void aLowerSocketTimeoutNeedsALowerStatementTimeout() {
        Map<String, String> c = valid();
        c.put("tributary.datasources.dst.socket-timeout", "5s");
        assertThrows(IllegalArgumentException.class, () -> new Datasources(config(c)));
        c.put("tributary.datasources.dst.statement-timeout", "4s");
        new Datasources(config(c)).close();
    }
}
