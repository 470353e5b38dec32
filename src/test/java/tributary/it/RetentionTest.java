package tributary.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import tributary.testing.Changes;
import tributary.testing.OutboxWriter;
import tributary.testing.OutboxWriter.Change;
import tributary.testing.Servers;
import tributary.testing.TributaryResource;

/** The outbox does not grow: DONE rows go (at ack, or after their age); nothing unfinished is ever deleted. */
@QuarkusTest
@WithTestResource(TributaryResource.class)
class RetentionTest {

    @Test
    void doneRowsArePurgedAndUnfinishedRowsAreUntouched() throws Exception {
        Servers s = Servers.get();
        OutboxWriter writer = new OutboxWriter(s.source);
        // Rows a day old in every status retention must respect, in both outboxes.
        for (String status : List.of("DEAD", "FAILED")) {
            OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload, status, "
                    + "created_at, next_attempt_at, attempts) VALUES ('orders', 'keep-o-" + status + "', 1, '{}', ?, "
                    + "now() - interval '1 day', now() + interval '1 day', 1)", status);
            OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload, status, "
                    + "created_at, next_attempt_at, attempts) VALUES ('payments', 'keep-p-" + status + "', 'X', '{}', ?, "
                    + "now() - interval '1 day', now() + interval '1 day', 1)", status);
        }
        // orders serves only aggregate 'orders': a PENDING row of another aggregate is never claimed nor purged.
        OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload, status, "
                + "created_at) VALUES ('not-a-pipeline', 'keep-o-PENDING', 1, '{}', 'PENDING', now() - interval '1 day')");
        OutboxWriter.update(s.source, "INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload, status, "
                + "created_at) VALUES ('payments', 'old-p-DONE', 'X', '{}', 'DONE', now() - interval '1 day')");

        Random random = new Random(7);
        List<Change> orders = Changes.generate("ret-o-", 4_000, random).subList(0, 10_000);
        List<Change> payments = Changes.generate("ret-p-", 4_000, random).subList(0, 10_000);
        for (int i = 0; i < 10_000; i += 100) {
            writer.tributary("orders", orders.subList(i, i + 100));
            writer.debezium("payments", payments.subList(i, i + 100));
        }
        String expectedOrders = writer.expected("ret-o-");
        String expectedPayments = writer.expected("ret-p-");
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            assertEquals(expectedOrders, OutboxWriter.actual(s.primary, "orders", "ret-o-"));
            assertEquals(expectedPayments, OutboxWriter.actual(s.primary, "analytics.payments", "ret-p-"));
        });

        // orders: retention 0 deletes at ack. payments: DONE rows older than 5 s go within a retention tick.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox WHERE business_key LIKE 'ret-o-%'"));
            assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM payments_outbox "
                    + "WHERE status = 'DONE' AND created_at < now() - interval '7 seconds'"));
            assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM payments_outbox "
                    + "WHERE aggregateid LIKE 'ret-p-%' AND status <> 'DONE'"));
        });
        assertEquals(List.of("keep-o-DEAD:DEAD", "keep-o-FAILED:FAILED", "keep-o-PENDING:PENDING"), OutboxWriter.rows(s.source,
                "SELECT business_key || ':' || status FROM tributary_outbox WHERE business_key LIKE 'keep-%' ORDER BY 1"));
        assertEquals(List.of("keep-p-DEAD:DEAD", "keep-p-FAILED:FAILED"), OutboxWriter.rows(s.source,
                "SELECT aggregateid || ':' || status FROM payments_outbox WHERE aggregateid LIKE 'keep-%' ORDER BY 1"));
        assertEquals("0", OutboxWriter.query(s.source, "SELECT count(*) FROM payments_outbox WHERE aggregateid = 'old-p-DONE'"));

        // Day-old unfinished rows would keep the pipelines degraded for the tests that follow.
        OutboxWriter.update(s.source, "DELETE FROM tributary_outbox WHERE business_key LIKE 'keep-%'");
        OutboxWriter.update(s.source, "DELETE FROM payments_outbox WHERE aggregateid LIKE 'keep-%'");
    }
}
