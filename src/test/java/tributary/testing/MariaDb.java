package tributary.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real MariaDB server on loopback with its own data directory, the binary log on in row format: the Debian
 * {@code mariadb-server} package's binaries ({@code .ci/run} installs it when missing), started and stopped here.
 */
public final class MariaDb implements AutoCloseable {

    public static final String DATABASE = "shop";
    /** The account Tributary uses: replication rights, and a password (the reader's offset store needs one). */
    public static final String USER = "tributary";
    public static final String PASSWORD = "tributary-test-" + Long.toHexString(System.nanoTime());

    private final Path dir;
    private final int port;
    private final boolean binlog;
    private Process process;

    public MariaDb(Path dir) {
        this(dir, true);
    }

    /** @param binlog whether the binary log is on (row format, full images); table mode needs it */
    public MariaDb(Path dir, boolean binlog) {
        this.dir = dir;
        this.port = Ports.free();
        this.binlog = binlog;
    }

    /** Whether the server binaries are installed. */
    public static boolean installed() {
        return Files.isExecutable(Path.of("/usr/sbin/mariadbd")) || Files.isExecutable(Path.of("/usr/bin/mariadbd"));
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    public synchronized MariaDb start() {
        if (!installed()) {
            throw new IllegalStateException("MariaDB's server binaries are not installed: apt-get install -y "
                    + "mariadb-server (.ci/run does this), then run the tests again");
        }
        try {
            Path data = dir.resolve("data");
            if (!Files.isDirectory(data.resolve("mysql"))) {
                Files.createDirectories(data);
                List<String> install = new ArrayList<>(List.of("mariadb-install-db", "--datadir=" + data,
                        "--auth-root-authentication-method=normal", "--skip-test-db"));
                if (root()) {
                    install.add("--user=mysql");
                    run(List.of("chown", "-R", "mysql:mysql", dir.toString()));
                }
                run(install);
            }
            List<String> cmd = new ArrayList<>(List.of(binary(), "--no-defaults", "--datadir=" + data,
                    "--socket=" + dir.resolve("s.sock"), "--port=" + port, "--bind-address=127.0.0.1",
                    "--server-id=1", "--pid-file=" + dir.resolve("p.pid"),
                    "--innodb-buffer-pool-size=128M", "--skip-name-resolve"));
            if (binlog) {
                cmd.addAll(List.of("--log-bin=" + data.resolve("binlog"), "--binlog-format=ROW",
                        "--binlog-row-image=FULL"));
            }
            if (root()) {
                cmd.add("--user=mysql");
            }
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile())).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/", "root", "");
                        Statement s = c.createStatement()) {
                    s.execute("CREATE DATABASE IF NOT EXISTS " + DATABASE);
                    s.execute("CREATE OR REPLACE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'");
                    // A source's reader needs the replication grants; a target's writer creates and alters its
                    // table and view (replacing a view needs DROP).
                    s.execute("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, CREATE VIEW, SHOW VIEW, "
                            + "RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, LOCK TABLES ON *.* TO '" + USER + "'@'%'");
                    return this;
                } catch (SQLException notYet) {
                    if (System.nanoTime() > deadline || !process.isAlive()) {
                        throw new IllegalStateException("MariaDB did not start; see " + dir.resolve("server.log"),
                                notYet);
                    }
                    Thread.sleep(250);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String binary() {
        return Files.isExecutable(Path.of("/usr/sbin/mariadbd")) ? "/usr/sbin/mariadbd" : "/usr/bin/mariadbd";
    }

    private void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("install.log").toFile())).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(cmd.get(0) + " failed; see " + dir.resolve("install.log"));
        }
    }

    public String jdbcUrl() {
        return "jdbc:mariadb://127.0.0.1:" + port + "/" + DATABASE;
    }

    /** A data source of Tributary's user on the test database. */
    public javax.sql.DataSource dataSource() throws SQLException {
        org.mariadb.jdbc.MariaDbDataSource ds = new org.mariadb.jdbc.MariaDbDataSource(jdbcUrl());
        ds.setUser(USER);
        ds.setPassword(PASSWORD);
        return ds;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), "root", "");
    }

    public synchronized void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop();
    }
}
