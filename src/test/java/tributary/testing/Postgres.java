package tributary.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A real PostgreSQL server on loopback. {@link #stop()} and {@link #start()} keep the data directory and port;
 * {@link #freeze()} and {@link #thaw()} make it stop answering without closing a connection, as a hung host would.
 */
public final class Postgres implements AutoCloseable {

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;
    private final Set<Long> frozen = new LinkedHashSet<>();

    private final boolean logical;

    public Postgres(Path dataDir) {
        this(dataDir, false);
    }

    /** @param logical whether the server runs with {@code wal_level=logical} (a table-mode source needs it) */
    public Postgres(Path dataDir, boolean logical) {
        this.dataDir = dataDir;
        this.port = Ports.free();
        this.logical = logical;
    }

    public synchronized Postgres start() {
        try {
            pg = EmbeddedPostgres.builder()
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "200")
                    // Durable commits as in production: zonky's builder turns synchronous_commit off by default.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("fsync", "on")
                    .setServerConfig("wal_level", logical ? "logical" : "replica")
                    .setPort(port)
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .start();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public synchronized void stop() {
        thaw();
        if (pg != null) {
            try {
                pg.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            pg = null;
        }
    }

    /**
     * SIGSTOP to the postmaster and every process under it: connections stay open and the kernel still accepts new
     * ones, but nothing answers. The postmaster goes first so it forks nothing new; the scan repeats until it finds
     * no process it has not stopped. Always {@link #thaw()} in a finally block: the server is shared.
     */
    public synchronized void freeze() {
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid())
                .orElseThrow(() -> new IllegalStateException("postmaster of " + dataDir + " is not running"));
        signal("STOP", List.of(postmaster.pid()), true);
        frozen.add(postmaster.pid());
        while (true) {
            List<Long> fresh = postmaster.descendants().map(ProcessHandle::pid).filter(pid -> !frozen.contains(pid)).toList();
            if (fresh.isEmpty()) {
                return;
            }
            signal("STOP", fresh, false); // a backend may exit between the scan and the signal
            frozen.addAll(fresh);
        }
    }

    /** SIGCONT to every process {@link #freeze()} stopped, children first; harmless when nothing is frozen. */
    public synchronized void thaw() {
        if (frozen.isEmpty()) {
            return;
        }
        List<Long> pids = new ArrayList<>(frozen);
        Collections.reverse(pids);
        // A process that vanished meanwhile makes kill exit non-zero; every living one still got the signal.
        signal("CONT", pids, false);
        frozen.clear();
    }

    /** CPU seconds the server used so far: the postmaster, its helpers and every connection's backend. */
    public double cpuSeconds() throws IOException {
        return Cpu.ofTree(postmasterPid());
    }

    private long postmasterPid() {
        try {
            return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void signal(String signal, List<Long> pids, boolean strict) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(pid -> cmd.add(pid.toString()));
        try {
            Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(kill.getInputStream().readAllBytes());
            if (kill.waitFor() != 0 && strict) {
                throw new IllegalStateException("kill -" + signal + " " + pids + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + signal, e);
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() {
        return "postgres";
    }

    @Override
    public void close() {
        stop();
    }
}
