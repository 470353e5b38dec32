package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import tributary.kafka.KafkaClients;
import tributary.testing.Changes;
import tributary.testing.KafkaBroker;
import tributary.testing.Load;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * Kafka as production runs it: a broker that only talks SASL. With credentials under {@code tributary.kafka.client.*}
 * rows flow as usual; with a wrong password Tributary is not ready, says the broker refused, and burns no row.
 */
class SecuredKafkaIT {

    private static final String USER = "tributary";
    private static final String PASSWORD = "tributary-secret-7f3a";
    private static final String WRONG_PASSWORD = "wrong-secret-91bc";

    private static KafkaBroker broker;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        broker = KafkaBroker.saslPlain(Files.createTempDirectory("tributary-sasl-kafka"), Map.of(USER, PASSWORD)).start();
    }

    @AfterAll
    static void stopSecuredBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Map<String, String> config(Servers s, String pipeline, String password) {
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.kafka.brokers", broker.bootstrap());
        KafkaBroker.saslClient(USER, password).forEach((key, value) -> c.put(KafkaClients.PREFIX + key, value));
        c.put("tributary.node-id", pipeline + "-1");
        c.put("tributary.pipelines." + pipeline + ".source.datasource", "source");
        c.put("tributary.pipelines." + pipeline + ".source.aggregate", pipeline);
        c.put("tributary.pipelines." + pipeline + ".target.datasource", "primary");
        c.put("tributary.pipelines." + pipeline + ".target.table", pipeline + "_orders");
        return c;
    }

    @Test
    void withCredentialsRowsStreamThroughTheAuthenticatingBroker() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.createOutbox(s.source);
        OutboxWriter writer = new OutboxWriter(s.source);
        List<Change> changes = Changes.generate("sasl-", 900, new Random(17)).subList(0, 2_000);
        // Half the rows wait before Tributary starts: its first batch goes to topics it has only just created.
        writer.tributary("sasl", changes.subList(0, 1_000));
        Path log = Path.of("target", "secured-kafka", "with-credentials.log").toAbsolutePath();
        Files.deleteIfExists(log);

        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log,
                config(s, "sasl", PASSWORD), Ports.free())) {
            tributary.start();
            Load load = Load.start(writer, "sasl", changes.subList(1_000, 2_000), 100, 20);
            load.await();
            String expected = writer.expected("sasl-");
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "sasl_orders", "sasl-")));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals("2000/2000", OutboxWriter.query(s.source,
                    "SELECT count(*) FILTER (WHERE status = 'DONE') || '/' || count(*) FROM tributary_outbox "
                            + "WHERE aggregate = 'sasl'"), "every row DONE"));

            JsonNode ready = writePath(health(tributary, "/ready").body);
            assertEquals("UP", ready.path("status").asText(), ready.toString());
            assertEquals("UP", ready.path("data").path("target.kafka").asText(), ready.toString());
            // The topics existed with leaders before collecting began, so no batch had to take the spool.
            assertEquals(0, replayed(tributary, "sasl"), "records replayed from the enqueue spool");
            try (Admin admin = Admin.create(broker.adminConfig())) {
                Set<String> topics = admin.listTopics().names().get();
                assertTrue(topics.containsAll(List.of("tributary.sasl", "tributary.sasl.acks", "tributary.sasl.dlq")),
                        topics.toString());
            }
        }
        assertFalse(Files.readString(log).contains(PASSWORD), "the password appears in Tributary's log");
    }

    @Test
    void withAWrongPasswordItIsNotReadyAndBurnsNoAttempts() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.createOutbox(s.source);
        OutboxWriter writer = new OutboxWriter(s.source);
        writer.tributary("refused", Changes.generate("refused-", 150, new Random(5)));
        long rows = Long.parseLong(OutboxWriter.query(s.source,
                "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'refused'"));
        Path log = Path.of("target", "secured-kafka", "wrong-password.log").toAbsolutePath();
        Files.deleteIfExists(log);

        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log,
                config(s, "refused", WRONG_PASSWORD), Ports.free())) {
            tributary.start();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Health ready = health(tributary, "/ready");
                assertEquals(503, ready.status, ready.body.toString());
                JsonNode check = writePath(ready.body);
                assertEquals("DOWN", check.path("status").asText(), ready.body.toString());
                JsonNode data = check.path("data");
                assertEquals("DOWN", data.path("target.kafka").asText(), ready.body.toString());
                assertTrue(data.path("target.kafka.error").asText().startsWith("authentication refused by the broker"),
                        ready.body.toString());
                assertFalse(ready.body.toString().contains(WRONG_PASSWORD), "the password appears in the health data");
            });
            // Collect keeps taking rows, into the spool: each claimed once, none given up on.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(String.valueOf(rows),
                    OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE aggregate = 'refused' "
                            + "AND status = 'SPOOLED'")));
            Thread.sleep(3_000);
            assertEquals(rows + "/0/1", OutboxWriter.query(s.source, "SELECT count(*) || '/' || count(*) FILTER "
                    + "(WHERE status = 'DEAD') || '/' || max(attempts) FROM tributary_outbox WHERE aggregate = 'refused'"));
            assertEquals("DOWN", writePath(health(tributary, "/ready").body).path("status").asText(), "still not ready");
        }
        assertFalse(Files.readString(log).contains(WRONG_PASSWORD), "the password appears in Tributary's log");
    }

    private record Health(int status, JsonNode body) {
    }

    private static Health health(TributaryProcess tributary, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(tributary.healthUrl()
                + path)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return new Health(r.statusCode(), new ObjectMapper().readTree(r.body()));
    }

    /** Tributary's write-path check (readiness also holds Camel's own checks). */
    private static JsonNode writePath(JsonNode health) {
        for (JsonNode check : health.path("checks")) {
            if ("tributary-write-path".equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no write-path check in " + health);
    }

    /** Records replayed from the pipeline's enqueue spool, from the Prometheus metrics. */
    private static double replayed(TributaryProcess tributary, String pipeline) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(tributary.healthUrl()
                .replace("/q/health", "/q/metrics"))).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^tributary_replay_records_total\\{[^}]*\\} ([0-9.eE+]+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            String line = m.group();
            if (line.contains("pipeline=\"" + pipeline + "\"") && line.contains("target=\"enqueue\"")) {
                total += Double.parseDouble(m.group(1));
            }
        }
        return total;
    }
}
