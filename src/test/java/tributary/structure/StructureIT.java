package tributary.structure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

import tributary.crypto.Envelope;
import tributary.crypto.KeyRing;
import tributary.crypto.RecordCipher;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TopicReader;
import tributary.testing.TributaryProcess;

/**
 * A pipeline's whole data contract from configuration, from the packaged application with two replicas: cleaning
 * rules in collect (filter, hash, trim and lowercase, drop, rename, default, required, cast), a typed target, and
 * schema evolution adding columns while 20,000 rows stream and a new field appears halfway.
 */
class StructureIT {

    private static final int ROWS = 20_000;
    private static final String SECRET = "structure-it-hash-secret-0123456789";

    /** One outbox row in SQL: every tenth is a test order, the second half carries two new fields. */
    private static String insert(int from, int to) {
        return "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) SELECT 'shop', 's-' || g, 1, "
                + "jsonb_build_object('order_no', 'O-' || g, 'amount', (g * 1.25)::text, "
                + "'status', CASE WHEN g % 10 = 0 THEN 'test' ELSE 'paid' END, "
                + "'card', '4111-1111-1111-' || lpad((g % 10000)::text, 4, '0'), "
                + "'email', '  User' || g || '@Example.COM ', 'internal', 'INTERNAL-ONLY', "
                + "'placed_at', to_char((timestamptz '2026-12-02 10:00:00+00' + g * interval '1 second') AT TIME ZONE 'UTC', "
                + "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) "
                + "|| CASE WHEN g > " + ROWS / 2 + " THEN jsonb_build_object('discount', (g % 7) + 0.5, 'channel', 'web') "
                + "ELSE '{}'::jsonb END FROM generate_series(" + from + ", " + to + ") g";
    }

    private static Map<String, String> config(Servers s, String node) {
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.node-id", node);
        String p = "tributary.pipelines.shop.";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.aggregate", "shop");
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", "shop_orders");
        c.put(p + "target.evolution", "add-column");
        c.put(p + "target.columns.order_ref.type", "varchar(20)");
        c.put(p + "target.columns.amount.type", "numeric(12,2)");
        c.put(p + "target.columns.card_token.type", "text");
        c.put(p + "target.columns.card_token.from", "$.card");
        c.put(p + "target.columns.email.type", "text");
        c.put(p + "target.columns.placed_at.type", "timestamptz");
        c.put(p + "target.columns.currency.type", "varchar(3)");
        String[][] rules = { { "type=filter", "when=$[?(@.status == 'test')]" }, { "type=mask", "field=$.card", "mode=hash",
                "secret=" + SECRET }, { "type=trim", "field=$.email" }, { "type=lowercase", "field=$.email" },
                { "type=drop", "field=$.internal" }, { "type=rename", "field=$.order_no", "to=order_ref" },
                { "type=default", "field=$.currency", "value=EUR" }, { "type=required", "field=$.amount" },
                { "type=cast", "field=$.amount", "as=number" } };
        for (int i = 0; i < rules.length; i++) {
            for (String kv : rules[i]) {
                c.put(p + "clean.rules[" + i + "]." + kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
        }
        c.put(p + "topic", "tributary.shop");
        c.put(p + "batch-size", "500");
        return c;
    }

    static String hmac(String value) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void rulesTypesAndNewColumnsUnderALiveStreamWithTwoReplicas() throws Exception {
        Servers s = Servers.get();
        OutboxWriter.createOutbox(s.source);
        Map<String, String> a = config(s, "replica-a");
        Map<String, String> b = config(s, "replica-b");
        b.put("tributary.crypto.keys.k1", a.get("tributary.crypto.keys.k1"));
        Path dir = Path.of("target", "structure").toAbsolutePath();
        try (TributaryProcess first = new TributaryProcess(TributaryProcess.defaultJar(), dir.resolve("a.log"), a,
                Ports.free()); TributaryProcess second = new TributaryProcess(TributaryProcess.defaultJar(),
                        dir.resolve("b.log"), b, Ports.free())) {
            first.start();
            second.start();
            // 20,000 rows in transactions of 200 while both replicas collect; the new fields appear halfway.
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
                try {
                    for (int g = 1; g <= ROWS; g += 200) {
                        OutboxWriter.update(s.source, insert(g, g + 199));
                        Thread.sleep(20);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            load.join();
            // One record a rule refuses (no amount), one its column refuses (an order number too long for it).
            OutboxWriter.update(s.source, "INSERT INTO tributary_outbox (aggregate, business_key, version, payload) VALUES "
                    + "('shop', 'bad-rule', 1, '{\"order_no\": \"O-1\", \"status\": \"paid\"}'), "
                    + "('shop', 'bad-type', 1, '{\"order_no\": \"O-SECRET-0123456789012345\", \"amount\": \"1\", "
                    + "\"status\": \"paid\"}')");
            int kept = ROWS - ROWS / 10;
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(
                    () -> assertEquals(ROWS + "", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox "
                            + "WHERE aggregate = 'shop' AND status IN ('DONE', 'FILTERED')")));
            assertEquals(ROWS / 10 + "", OutboxWriter.query(s.source, "SELECT count(*) FROM tributary_outbox "
                    + "WHERE aggregate = 'shop' AND status = 'FILTERED'"), "test orders filtered, never DEAD");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> assertEquals(
                    "bad-rule: rules[7] required: field $.amount is missing or null|bad-type: does not fit the target: "
                            + "field $.order_ref (column order_ref): a JSON string value is longer than 20 characters "
                            + "for type character varying(20)",
                    OutboxWriter.query(s.source, "SELECT string_agg(business_key || ': ' || last_error, '|' ORDER BY "
                            + "business_key) FROM tributary_outbox WHERE aggregate = 'shop' AND status = 'DEAD'")));

            // The typed target: every kept row once, cleaned and converted.
            assertEquals(kept + "", OutboxWriter.query(s.primary, "SELECT count(*) FROM shop_orders_live"));
            double amount = 0;
            for (int g = 1; g <= ROWS; g++) {
                amount += g % 10 == 0 ? 0 : g * 1.25;
            }
            assertEquals(String.format("%.2f", amount), OutboxWriter.query(s.primary, "SELECT sum(amount)::text FROM shop_orders"));
            assertEquals("O-4321|" + hmac("4111-1111-1111-4321") + "|user4321@example.com|2026-12-02 11:12:01+00|EUR",
                    OutboxWriter.query(s.primary, "SELECT order_ref || '|' || card_token || '|' || email || '|' || "
                            + "(placed_at AT TIME ZONE 'UTC')::text || '+00|' || currency FROM shop_orders "
                            + "WHERE business_key = 's-4321'"));
            assertEquals("0", OutboxWriter.query(s.primary, "SELECT count(*) FROM shop_orders WHERE card_token !~ "
                    + "'^[0-9a-f]{64}$' OR email <> lower(trim(email)) OR currency <> 'EUR' OR order_ref IS NULL"));
            // Schema evolution: the fields that appeared halfway became columns, typed from their values.
            assertEquals("channel:text,discount:numeric,status:text", OutboxWriter.query(s.primary, "SELECT string_agg("
                    + "attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attname) FROM pg_attribute WHERE "
                    + "attrelid = 'shop_orders'::regclass AND attname IN ('discount', 'channel', 'status', 'internal', "
                    + "'card', 'order_no')"), "undeclared fields became columns; dropped, renamed and mapped ones did not");
            assertEquals("paid:" + kept, OutboxWriter.query(s.primary, "SELECT string_agg(status || ':' || n, ',') FROM "
                    + "(SELECT status, count(*) n FROM shop_orders GROUP BY status) x"));
            long secondHalf = java.util.stream.IntStream.rangeClosed(ROWS / 2 + 1, ROWS).filter(g -> g % 10 != 0).count();
            double discount = java.util.stream.IntStream.rangeClosed(ROWS / 2 + 1, ROWS).filter(g -> g % 10 != 0)
                    .mapToDouble(g -> g % 7 + 0.5).sum();
            assertEquals(secondHalf + "|" + secondHalf + "|" + String.format("%.1f", discount), OutboxWriter.query(s.primary,
                    "SELECT count(discount) || '|' || count(channel) || '|' || sum(discount)::numeric(20,1) FROM shop_orders"));
            assertEquals(kept - secondHalf + "", OutboxWriter.query(s.primary, "SELECT count(*) FROM shop_orders "
                    + "WHERE discount IS NULL AND channel IS NULL"), "rows from before the field existed have NULL");
            assertTrue(OutboxWriter.query(s.primary, "SELECT pg_get_viewdef('shop_orders_live'::regclass)")
                    .contains("discount"), "the live view shows added columns");

            // The topic only ever saw cleaned data: open every record with the test's key and look.
            RecordCipher cipher = new RecordCipher(new KeyRing("k1", Map.of("k1", a.get("tributary.crypto.keys.k1"))));
            String scope = RecordCipher.scope("shop", "shop_orders");
            List<TopicReader.Record> records = TopicReader.readAll(s.kafka.bootstrap(), "tributary.shop", Duration.ofSeconds(3));
            assertTrue(records.size() >= kept, "records on the topic: " + records.size());
            Map<String, String> seen = new TreeMap<>();
            for (TopicReader.Record r : records) {
                String payload = Envelope.fromBytes(cipher.open(scope, r.key(), r.value())).payload();
                assertFalse(payload.contains("4111-1111"), "a card number in clear on the topic");
                assertFalse(payload.contains("INTERNAL-ONLY"), "a dropped field on the topic");
                assertFalse(payload.contains("\"test\""), "a filtered record on the topic");
                seen.put(r.key(), payload);
            }
            assertTrue(seen.get("s-4321").contains("\"card\":\"" + hmac("4111-1111-1111-4321") + "\""), seen.get("s-4321"));
            assertTrue(seen.get("s-4321").contains("\"amount\":5401.25"), "cast to a number: " + seen.get("s-4321"));
        }
    }
}
