package tributary.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import javax.sql.DataSource;

import org.apache.camel.CamelExecutionException;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import tributary.config.TributaryConfig;
import tributary.testing.Postgres;

/**
 * The timeouts reach real PostgreSQL connections, an {@code options} in the URL survives, Detail stays out, and the
 * probe pool fails fast on a server that stops answering and works again once it answers.
 */
class DatasourcesTest {

    private static Postgres pg;
    private static Datasources datasources;

    @BeforeAll
    static void start() throws Exception {
        pg = new Postgres(Files.createTempDirectory("tributary-datasources")).start();
        Map<String, String> c = new HashMap<>();
        c.put("tributary.kafka.brokers", "127.0.0.1:9092");
        c.put("tributary.crypto.active-key", "k1");
        c.put("tributary.crypto.keys.k1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        c.put("tributary.datasources.plain.url", pg.jdbcUrl());
        c.put("tributary.datasources.plain.username", pg.user());
        c.put("tributary.datasources.plain.socket-timeout", "7s");
        c.put("tributary.datasources.plain.statement-timeout", "1500ms");
        // The operator's own options: a search path, which must survive next to the statement timeout.
        c.put("tributary.datasources.tuned.url", pg.jdbcUrl() + "?options=-c%20search_path%3Dtuned_schema");
        c.put("tributary.datasources.tuned.username", pg.user());
        c.put("tributary.health.probe-timeout", "3s");
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(TributaryConfig.class)
                .withConverter(Duration.class, 200, new DurationConverter())
                .withSources(new PropertiesConfigSource(c, "test", 100)).build();
        datasources = new Datasources(config.getConfigMapping(TributaryConfig.class));
    }

    @AfterAll
    static void stop() {
        if (datasources != null) {
            datasources.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static String show(DataSource ds, String setting) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int networkTimeoutMillis(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return c.getNetworkTimeout();
        }
    }

    @Test
    void everyConnectionCarriesItsSocketAndStatementTimeouts() throws Exception {
        assertEquals(7_000, networkTimeoutMillis(datasources.get("plain")));
        assertEquals("1500ms", show(datasources.get("plain"), "statement_timeout"));
        assertEquals(30_000, networkTimeoutMillis(datasources.get("tuned")), "the default socket timeout");
        assertEquals("20s", show(datasources.get("tuned"), "statement_timeout"), "the default statement timeout");
    }

    @Test
    void theServerCancelsAStatementAfterTheStatementTimeout() throws Exception {
        try (Connection c = datasources.get("plain").getConnection(); Statement st = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> st.execute("SELECT pg_sleep(5)"));
            assertEquals("57014", e.getSQLState(), "query_canceled by statement_timeout");
        }
    }

    @Test
    void anOptionsParameterInTheUrlIsKept() throws Exception {
        assertEquals("tuned_schema", show(datasources.get("tuned"), "search_path"));
    }

    @Test
    void theProbePoolHasTheProbeTimeoutAndNoStatementTimeout() throws Exception {
        DataSource probe = datasources.probe("plain");
        assertEquals(3_000, networkTimeoutMillis(probe));
        assertEquals("0", show(probe, "statement_timeout"));
        assertTrue(probe != datasources.get("plain"), "a pool of its own");
        assertThrows(IllegalArgumentException.class, () -> datasources.probe("nope"));
    }

    /** Through camel-jdbc, as the health route probes: a dead connection must not stay checked out of the pool. */
    @Test
    void aFrozenServerFailsTheProbeWithinItsTimeoutAndTheProbeRecoversAfterwards() throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.getRegistry().bind("probe", datasources.probe("plain"));
            camel.start();
            ProducerTemplate template = camel.createProducerTemplate();
            template.requestBody("jdbc:probe", "SELECT 1");
            long started = System.nanoTime();
            try {
                pg.freeze();
                assertThrows(CamelExecutionException.class, () -> template.requestBody("jdbc:probe", "SELECT 1"));
                long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
                assertTrue(millis >= 2_500 && millis < 6_000, "the probe failed after " + millis + " ms (timeout 3 s)");
                // A new connection to a frozen server: the kernel still accepts TCP, the login timeout ends it.
                started = System.nanoTime();
                assertThrows(CamelExecutionException.class, () -> template.requestBody("jdbc:probe", "SELECT 1"));
                millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
                assertTrue(millis < 6_000, "the second probe failed after " + millis + " ms (timeout 3 s)");
            } finally {
                pg.thaw();
            }
            template.requestBody("jdbc:probe", "SELECT 1");
        }
    }

    @Test
    void serverErrorDetailStaysOutOfMessages() throws Exception {
        try (Connection c = datasources.get("plain").getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE detail_probe (k text PRIMARY KEY)");
            st.execute("INSERT INTO detail_probe VALUES ('secret-payload-fragment')");
            SQLException e = assertThrows(SQLException.class,
                    () -> st.execute("INSERT INTO detail_probe VALUES ('secret-payload-fragment')"));
            assertEquals("23505", e.getSQLState());
            assertFalse(e.getMessage().contains("secret-payload-fragment"), e.getMessage());
        }
    }
}
