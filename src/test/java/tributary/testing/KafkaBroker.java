package tributary.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node KRaft Kafka broker in a child JVM, PLAINTEXT or with a SASL/PLAIN client listener.
 * {@link #kill()} and {@link #start()} simulate an outage on the same log directory and port.
 */
public final class KafkaBroker implements AutoCloseable {

    /** The user a SASL broker authenticates itself as between brokers (and in {@link #awaitReady}). */
    public static final String ADMIN_USER = "admin";
    private static final String ADMIN_PASSWORD = "admin-secret";

    private final Path dir;
    private final int port;
    private final int controllerPort;
    /** SASL/PLAIN users and passwords; empty for a PLAINTEXT broker. */
    private final Map<String, String> users;
    private Process process;

    public KafkaBroker(Path dir) {
        this(dir, Map.of());
    }

    private KafkaBroker(Path dir, Map<String, String> users) {
        this.dir = dir;
        this.port = Ports.free();
        this.controllerPort = Ports.free();
        this.users = users;
        writeConfigAndFormat();
    }

    /**
     * A broker whose client listener is SASL_PLAINTEXT with the PLAIN mechanism and knows {@code users} (name to
     * password) besides its own admin user. The controller listener stays PLAINTEXT.
     */
    public static KafkaBroker saslPlain(Path dir, Map<String, String> users) {
        Map<String, String> all = new TreeMap<>(users);
        all.put(ADMIN_USER, ADMIN_PASSWORD);
        return new KafkaBroker(dir, all);
    }

    /** Client settings to authenticate with SASL/PLAIN as {@code user}. */
    public static Map<String, String> saslClient(String user, String password) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user + "\" password=\""
                        + password + "\";");
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    private Path config() {
        return dir.resolve("server.properties");
    }

    private void writeConfigAndFormat() {
        try {
            Files.createDirectories(dir.resolve("logs"));
            try (Writer w = Files.newBufferedWriter(config())) {
                w.write(String.join("\n", listenerConfig()));
                w.write(String.join("\n",
                        "",
                        "process.roles=broker,controller",
                        "node.id=1",
                        "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                        "controller.listener.names=CONTROLLER",
                        "log.dirs=" + dir.resolve("logs"),
                        "num.partitions=3",
                        "offsets.topic.replication.factor=1",
                        "offsets.topic.num.partitions=5",
                        "transaction.state.log.replication.factor=1",
                        "transaction.state.log.min.isr=1",
                        "min.insync.replicas=1",
                        "group.initial.rebalance.delay.ms=0",
                        "auto.create.topics.enable=true",
                        ""));
            }
            run(List.of("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c",
                    config().toString()), dir.resolve("format.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The client listener: PLAINTEXT, or SASL_PLAINTEXT/PLAIN with the brokers' own user between brokers. */
    private List<String> listenerConfig() {
        String protocol = users.isEmpty() ? "PLAINTEXT" : "SASL_PLAINTEXT";
        List<String> lines = new ArrayList<>(List.of(
                "listeners=" + protocol + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=" + protocol + "://127.0.0.1:" + port,
                "inter.broker.listener.name=" + protocol,
                "listener.security.protocol.map=" + protocol + ":" + protocol + ",CONTROLLER:PLAINTEXT"));
        if (!users.isEmpty()) {
            StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                    + ADMIN_USER + "\" password=\"" + ADMIN_PASSWORD + "\"");
            users.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
            lines.add("listener.name.sasl_plaintext.plain.sasl.jaas.config=" + jaas + ";");
            lines.add("sasl.enabled.mechanisms=PLAIN");
            lines.add("sasl.mechanism.inter.broker.protocol=PLAIN");
        }
        return lines;
    }

    /** Admin client settings for this broker, authenticated as its admin user when it is a SASL broker. */
    public Map<String, Object> adminConfig() {
        Map<String, Object> props = new HashMap<>();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        if (!users.isEmpty()) {
            props.putAll(saslClient(ADMIN_USER, ADMIN_PASSWORD));
        }
        return props;
    }

    private static void run(List<String> mainAndArgs, Path log) throws IOException {
        Process p = java(mainAndArgs, log, "-Xmx256m").start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("Kafka storage format failed; see " + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static ProcessBuilder java(List<String> mainAndArgs, Path log, String... jvmArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmArgs));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(mainAndArgs);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    }

    /** Starts the broker and waits until it answers. */
    public synchronized KafkaBroker start() {
        try {
            process = java(List.of(QuietKafka.class.getName(), config().toString()), dir.resolve("broker.log"), "-Xms128m", "-Xmx768m",
                    "-XX:+UseSerialGC", "-Dlog4j2.level=WARN").start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitReady(Duration.ofSeconds(90));
        return this;
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Object> props = adminConfig();
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Kafka broker exited; see " + dir.resolve("broker.log"));
            }
            try (Admin admin = Admin.create(props)) {
                admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                return;
            } catch (Exception notYet) {
                sleep(300);
            }
        }
        throw new IllegalStateException("Kafka broker did not start within " + timeout + "; see " + dir.resolve("broker.log"));
    }

    /** CPU seconds the broker's process used so far. */
    public double cpuSeconds() throws IOException {
        return Cpu.seconds(Path.of("/proc", Long.toString(process.pid()), "stat"));
    }

    /** Kills the broker process at once, as a crash would. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        kill();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public File logFile() {
        return dir.resolve("broker.log").toFile();
    }
}
