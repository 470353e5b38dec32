package tributary.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Tributary on embedded defaults: real PostgreSQL servers (business, primary, standby) and a real Kafka broker,
 * a sample shop whose order service writes through the outbox, and Tributary moving the orders into the
 * analytics primary. Prints a live line until stopped (or for {@code -Ddemo.seconds=N}).
 */
public final class Demo {

    public static void main(String[] args) throws Exception {
        long seconds = Long.getLong("demo.seconds", 0);
        int port = Integer.getInteger("demo.http.port", 8080);
        System.out.println("Starting embedded PostgreSQL (business, primary, standby) and Kafka ...");
        Servers s = Servers.get();
        createShop(s);

        Map<String, String> config = TributaryProcess.baseConfig(s);
        config.put("tributary.pipelines.orders.source.datasource", "source");
        config.put("tributary.pipelines.orders.source.aggregate", "orders");
        config.put("tributary.pipelines.orders.target.datasource", "primary");
        config.put("tributary.pipelines.orders.target.table", "analytics.orders");
        config.put("tributary.pipelines.orders.backlog.log-interval", "10s");
        Path log = Path.of("target", "demo", "tributary.log").toAbsolutePath();
        Files.deleteIfExists(log);
        System.out.println("Starting Tributary (log: " + log + ") ...");
        int httpPort = portOrFree(port);
        TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log, config, httpPort).start();
        Runtime.getRuntime().addShutdownHook(new Thread(tributary::stop));

        AtomicLong written = new AtomicLong();
        Thread generator = new Thread(() -> generate(s, written), "order-generator");
        generator.setDaemon(true);
        generator.start();

        System.out.println();
        System.out.println("Tributary is running. Health: " + tributary.healthUrl() + "  (also /live, /ready, /well)");
        System.out.println("Business DB:  " + s.source.jdbcUrl() + "  (shop.orders, tributary_outbox)");
        System.out.println("Analytics DB: " + s.primary.jdbcUrl() + "  (analytics.orders, view analytics.orders_live)");
        System.out.println("User postgres, no password. Ctrl-C stops everything.");
        System.out.println();
        long started = System.nanoTime();
        while (seconds == 0 || System.nanoTime() - started < Duration.ofSeconds(seconds).toNanos()) {
            Thread.sleep(1000);
            System.out.println(status(s, written.get()));
        }
        // The shop stops writing before its database goes away.
        generator.interrupt();
        generator.join(5_000);
        tributary.stop();
        System.exit(0);
    }

    private static int portOrFree(int port) {
        try (var socket = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return port;
        } catch (java.io.IOException busy) {
            int free = Ports.free();
            System.out.println("Port " + port + " is busy; Tributary listens on " + free);
            return free;
        }
    }

    private static void createShop(Servers s) throws Exception {
        try (Connection c = Servers.connect(s.source); var st = c.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS shop");
            st.execute("CREATE TABLE IF NOT EXISTS shop.orders (id text PRIMARY KEY, customer text NOT NULL, "
                    + "amount numeric(12, 2) NOT NULL, state text NOT NULL, version bigint NOT NULL)");
        }
        OutboxWriter.createOutbox(s.source);
    }

    /** The shop's order service: each change updates shop.orders and writes the outbox row in one transaction. */
    private static void generate(Servers s, AtomicLong written) {
        Random random = new Random();
        String[] states = { "NEW", "PAID", "SHIPPED", "DELIVERED" };
        try (Connection c = Servers.connect(s.source);
                PreparedStatement upsert = c.prepareStatement("INSERT INTO shop.orders VALUES (?, ?, ?, ?, ?) "
                        + "ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version");
                PreparedStatement delete = c.prepareStatement("DELETE FROM shop.orders WHERE id = ?");
                PreparedStatement outbox = c.prepareStatement("INSERT INTO tributary_outbox (aggregate, business_key, "
                        + "version, operation, payload) VALUES ('orders', ?, ?, ?, CAST(? AS jsonb))")) {
            c.setAutoCommit(false);
            long[] versions = new long[2_000];
            while (!Thread.currentThread().isInterrupted()) {
                int i = random.nextInt(versions.length);
                String id = "order-" + i;
                long version = ++versions[i];
                // Every fifth change of an order deletes it; the next one creates it again, with a newer version.
                boolean remove = version % 5 == 0;
                String state = states[(int) ((version - 1) % 5) % 4];
                if (remove) {
                    delete.setString(1, id);
                    delete.executeUpdate();
                } else {
                    upsert.setString(1, id);
                    upsert.setString(2, "customer-" + (i % 97));
                    upsert.setBigDecimal(3, java.math.BigDecimal.valueOf(10 + i % 500));
                    upsert.setString(4, state);
                    upsert.setLong(5, version);
                    upsert.executeUpdate();
                }
                outbox.setString(1, id);
                outbox.setLong(2, version);
                outbox.setString(3, remove ? "DELETE" : "UPSERT");
                outbox.setString(4, remove ? null
                        : "{\"id\": \"" + id + "\", \"state\": \"" + state + "\", \"amount\": " + (10 + i % 500) + "}");
                outbox.executeUpdate();
                c.commit();
                written.incrementAndGet();
                Thread.sleep(5);
            }
        } catch (InterruptedException stopped) {
            // the demo's end
        } catch (SQLException e) {
            System.err.println("order generator stopped: " + e);
        }
    }

    private static String status(Servers s, long written) {
        try {
            String outbox = OutboxWriter.query(s.source, "SELECT count(*) FILTER (WHERE status NOT IN ('PENDING', 'FAILED')) "
                    + "|| ' ' || count(*) FILTER (WHERE status = 'DONE') || ' ' || count(*) FILTER (WHERE status NOT IN "
                    + "('DONE', 'DEAD')) || ' ' || coalesce(round(extract(epoch FROM now() - min(created_at) FILTER "
                    + "(WHERE status NOT IN ('DONE', 'DEAD'))) * 1000), 0) FROM tributary_outbox");
            String[] f = outbox.split(" ");
            String rows = OutboxWriter.query(s.primary, "SELECT count(*) FROM analytics.orders_live");
            return String.format("written %d | collected %s | synced %s | in flight %s | lag %s ms | analytics.orders_live %s rows",
                    written, f[0], f[1], f[2], f[3], rows);
        } catch (SQLException e) {
            return "status unavailable: " + e.getMessage();
        }
    }
}
