package tributary.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Tributary itself as a child JVM from the packaged application, configured by system properties. {@link #kill()}
 * is a {@code kill -9}; {@link #start()} again resumes on the same configuration.
 */
public final class TributaryProcess implements AutoCloseable {

    private final Path jar;
    private final Path log;
    private final Map<String, String> config;
    private final int httpPort;
    private String heap = "-Xmx1g";
    private Process process;

    public TributaryProcess(Path jar, Path log, Map<String, String> config, int httpPort) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it first with 'mvn package -DskipTests'");
        }
        this.jar = jar;
        this.log = log;
        this.config = new TreeMap<>(config);
        this.httpPort = httpPort;
    }

    public static Path defaultJar() {
        return Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath();
    }

    public String healthUrl() {
        return "http://127.0.0.1:" + httpPort + "/q/health";
    }

    private final List<String> jvmArgs = new ArrayList<>();

    /** Extra JVM options of the next start, e.g. a flight recording. */
    public TributaryProcess jvm(String option) {
        jvmArgs.add(option);
        return this;
    }

    /** The heap limit of the next start, e.g. {@code 512m}. */
    public TributaryProcess heap(String max) {
        this.heap = "-Xmx" + max;
        return this;
    }

    /** Resident set size of the running process in bytes, from /proc. */
    public long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    /** CPU seconds (user + system) the running process used so far, from /proc. */
    public double cpuSeconds() throws IOException {
        return Cpu.seconds(Path.of("/proc", Long.toString(process.pid()), "stat"));
    }

    /**
     * CPU seconds the JVM's JIT compiler threads used so far (threads named "C1 CompilerThre…" and "C2 CompilerThre…"
     * in /proc): while they keep a core busy, the process is not yet in its steady state.
     */
    public double compilerSeconds() throws IOException {
        double seconds = 0;
        try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
                        seconds += Cpu.seconds(task.resolve("stat"));
                    }
                } catch (IOException threadEnded) {
                    // a thread that ended between the listing and the read
                }
            }
        }
        return seconds;
    }

    /** GET of a health endpoint ({@code ready}, {@code live}, {@code well}). */
    public HttpResponse<String> health(String which) throws IOException, InterruptedException {
        return Http.get(healthUrl() + "/" + which);
    }

    /** GET of a path of the process's HTTP server, e.g. {@code /q/metrics}. */
    public HttpResponse<String> http(String path) throws IOException, InterruptedException {
        return Http.get("http://127.0.0.1:" + httpPort + path);
    }

    /** Exit code after the process ended (waits up to the timeout), or null if it still runs. */
    public Integer exitCode(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    public synchronized TributaryProcess start() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add(heap);
        cmd.addAll(jvmArgs);
        cmd.add("-Dquarkus.http.host=127.0.0.1");
        cmd.add("-Dquarkus.http.port=" + httpPort);
        config.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(jar.toString());
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitReady(Duration.ofSeconds(120));
        return this;
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Tributary exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(healthUrl() + "/live"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            sleep(250);
        }
        throw new IllegalStateException("Tributary did not become live within " + timeout + "; see " + log);
    }

    /** SIGKILL: no shutdown hooks, no flushing, exactly like a crash. */
    public synchronized void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A graceful stop (SIGTERM). */
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

    public boolean alive() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        stop();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Configuration for Tributary against the shared test servers, with fresh keys; add pipelines to it. */
    public static Map<String, String> baseConfig(Servers s) {
        Map<String, String> c = new TreeMap<>();
        c.put("tributary.kafka.brokers", s.kafka.bootstrap());
        c.put("tributary.spool.dir", s.dir.resolve("spool-" + System.nanoTime()).toString());
        c.put("tributary.crypto.active-key", "k1");
        c.put("tributary.crypto.keys.k1", TributaryResource.randomKey());
        for (var e : Map.of("source", s.source, "primary", s.primary, "standby", s.standby).entrySet()) {
            c.put("tributary.datasources." + e.getKey() + ".url", e.getValue().jdbcUrl());
            c.put("tributary.datasources." + e.getKey() + ".username", e.getValue().user());
        }
        return c;
    }
}
