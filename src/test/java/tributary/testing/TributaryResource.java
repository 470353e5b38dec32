package tributary.testing;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts the real servers and configures two pipelines against them: {@code orders} on Tributary's outbox layout
 * with DONE rows deleted at ack, and {@code payments} on Debezium's layout (no version column) with a retention age.
 */
public class TributaryResource implements QuarkusTestResourceLifecycleManager {

    /** Where the application under test logs. */
    public static final java.nio.file.Path LOG = java.nio.file.Path.of("target", "quarkus-test.log").toAbsolutePath();

    /** Keys made per run: nothing secret is kept in the repository. */
    public static final String OLD_KEY = randomKey();
    public static final String ACTIVE_KEY = randomKey();

    @Override
    public Map<String, String> start() {
        Servers s = Servers.get();
        Map<String, String> c = new HashMap<>();
        c.put("quarkus.http.host", "127.0.0.1");
        c.put("quarkus.http.test-port", "0");
        c.put("tributary.node-id", "test-node");
        // Tributary's own log as a file, so tests can check what it does not say (payload data, secrets).
        c.put("quarkus.log.file.enabled", "true");
        c.put("quarkus.log.file.path", LOG.toString());
        c.put("tributary.spool.dir", s.dir.resolve("spool").toString());
        c.put("tributary.health.interval", "300ms");
        c.put("tributary.kafka.brokers", s.kafka.bootstrap());
        c.put("tributary.crypto.active-key", "k2");
        c.put("tributary.crypto.keys.k1", OLD_KEY);
        c.put("tributary.crypto.keys.k2", ACTIVE_KEY);
        datasource(c, "source", s.source);
        datasource(c, "primary", s.primary);
        datasource(c, "standby", s.standby);

        c.put("tributary.pipelines.orders.source.datasource", "source");
        c.put("tributary.pipelines.orders.source.aggregate", "orders");
        c.put("tributary.pipelines.orders.source.create-table", "true");
        c.put("tributary.pipelines.orders.target.datasource", "primary");
        c.put("tributary.pipelines.orders.target.standby", "standby");
        c.put("tributary.pipelines.orders.target.table", "orders");
        c.put("tributary.pipelines.orders.retention.done", "0");
        // Two collect workers, so per-key topic order (TopicOrderTest) and every fault test run with sliced claims.
        c.put("tributary.pipelines.orders.collect-workers", "2");
        c.put("tributary.pipelines.orders.retention.interval", "1s");
        c.put("tributary.pipelines.orders.backlog.interval", "500ms");
        c.put("tributary.pipelines.orders.backlog.degraded-after", "4s");

        c.put("tributary.pipelines.payments.source.datasource", "source");
        c.put("tributary.pipelines.payments.source.layout", "debezium");
        c.put("tributary.pipelines.payments.source.table", "payments_outbox");
        c.put("tributary.pipelines.payments.source.create-table", "true");
        c.put("tributary.pipelines.payments.target.datasource", "primary");
        c.put("tributary.pipelines.payments.target.standby", "standby");
        c.put("tributary.pipelines.payments.target.table", "analytics.payments");
        c.put("tributary.pipelines.payments.batch-size", "300");
        c.put("tributary.pipelines.payments.retention.done", "5s");
        c.put("tributary.pipelines.payments.retention.interval", "1s");
        c.put("tributary.pipelines.payments.retention.tombstones", "1h");
        c.put("tributary.pipelines.payments.retention.dead", "30m");
        c.put("tributary.pipelines.payments.ack-timeout", "10m");
        c.put("tributary.pipelines.payments.backlog.dead-window", "20s");
        c.put("tributary.pipelines.orders.backlog.dead-window", "2s");
        return c;
    }

    private static void datasource(Map<String, String> c, String name, Postgres pg) {
        c.put("tributary.datasources." + name + ".url", pg.jdbcUrl());
        c.put("tributary.datasources." + name + ".username", pg.user());
    }

    public static String randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    @Override
    public void stop() {
        // The servers live for the whole JVM so that further test classes reuse them.
    }
}
