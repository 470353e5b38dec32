package tributary.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The real servers one JVM shares: a business (source) PostgreSQL, the analytics primary and standby, and a
 * Kafka broker. Started once, on first use, and stopped when the JVM exits.
 */
public final class Servers {

    private static Servers instance;

    public final Path dir;
    public final Postgres source;
    public final Postgres primary;
    public final Postgres standby;
    public final KafkaBroker kafka;

    private Servers(Path dir) {
        this.dir = dir;
        // Logical decoding on, as table mode needs; the primary keeps the default, so a source without it is at hand.
        this.source = new Postgres(dir.resolve("source"), true).start();
        this.primary = new Postgres(dir.resolve("primary")).start();
        this.standby = new Postgres(dir.resolve("standby")).start();
        this.kafka = new KafkaBroker(dir.resolve("kafka")).start();
    }

    public static synchronized Servers get() {
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("tributary-servers");
                Servers servers = new Servers(dir);
                Runtime.getRuntime().addShutdownHook(new Thread(servers::stopAll));
                instance = servers;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return instance;
    }

    private void stopAll() {
        kafka.kill();
        for (Postgres pg : new Postgres[] { source, primary, standby }) {
            try {
                pg.stop();
            } catch (RuntimeException ignored) {
                // best effort at JVM exit
            }
        }
    }

    public static Connection connect(Postgres pg) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(), pg.user(), "");
    }
}
