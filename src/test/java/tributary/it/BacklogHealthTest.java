package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import tributary.testing.OutboxWriter;
import tributary.testing.Servers;
import tributary.testing.TributaryResource;

/** The backlog is visible: a pipeline whose oldest unfinished row is too old reports itself degraded. */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class BacklogHealthTest {

    @TestHTTPResource("/q/health/well")
    URL wellness;

    @Inject
    CamelContext camel;

    private HttpResponse<String> get() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(wellness.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void degradedWhileSyncIsStoppedAndHealthyAfterCatchUp() throws Exception {
        Servers s = Servers.get();
        camel.getRouteController().stopRoute("sync-jdbc-primary-orders");
        try {
            OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) "
                    + "SELECT 'orders', 'backlog-' || g, 1, jsonb_build_object('g', g) FROM generate_series(1, 50) g");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                HttpResponse<String> r = get();
                assertEquals(503, r.statusCode(), r.body());
                assertTrue(r.body().contains("\"orders.state\": \"DEGRADED\""), r.body());
                assertTrue(r.body().contains("\"orders.ENQUEUED\": 50"), r.body());
            });
        } finally {
            camel.getRouteController().startRoute("sync-jdbc-primary-orders");
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            HttpResponse<String> r = get();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"orders.state\": \"OK\""), r.body());
        });
        assertEquals("50", OutboxWriter.query(s.primary, "SELECT count(*) FROM orders_live WHERE business_key LIKE 'backlog-%'"));
    }

    @Test
    void aRowGoingDeadDegradesThePipelineForTheDeadWindow() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                + "VALUES ('payments', 'dead-window-1', 'PaymentChanged', '[1]')");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> r = get();
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"payments.state\": \"DEGRADED\""), r.body());
            assertTrue(r.body().contains("payments.last-dead-seconds-ago"), r.body());
        });
        assertEquals("DEAD", OutboxWriter.query(s.source,
                "SELECT status FROM payments_outbox WHERE aggregateid = 'dead-window-1'"));
        // The window (20 s in the tests) passes with no new DEAD row: healthy again.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            HttpResponse<String> r = get();
            assertTrue(r.body().contains("\"payments.state\": \"OK\""), r.body());
        });
    }
}
