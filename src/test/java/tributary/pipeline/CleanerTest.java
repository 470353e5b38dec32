package tributary.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.apache.camel.impl.DefaultCamelContext;

import tributary.clean.CleanRules;
import tributary.outbox.OutboxRecord;
import tributary.testing.TestRule;

class CleanerTest {

    private static OutboxRecord row(long id, String key, Long version, boolean delete, String payload) {
        return new OutboxRecord(id, key, version, delete, payload, Instant.now(), 1);
    }

    @Test
    void aRecordTooLargeForKafkaIsRefusedWithItsSize() {
        String big = "{\"x\": \"" + "a".repeat(2_000) + "\"}";
        Cleaner.Cleaned cleaned = new Cleaner().clean(List.of(row(1, "a", 1L, false, big), row(2, "b", 1L, false, "{}"),
                row(3, "c", 2L, true, big)), "orders", Duration.ofDays(1), 1_000);
        assertEquals(List.of(2L, 3L), cleaned.valid().stream().map(OutboxRecord::id).toList(), "a delete carries no payload");
        String reason = cleaned.rejected().get(1L);
        assertTrue(reason.matches("record of \\d+ bytes is \\d+ bytes over the limit of 1000 "
                + "\\(tributary.kafka.max-record-bytes\\)"), reason);
    }

    @Test
    void keepsValidRecordsAndRejectsTheRestWithReasons() {
        Cleaner.Cleaned cleaned = new Cleaner().clean(List.of(
                row(1, "a", 1L, false, "{\"x\": 1}"),
                row(2, "", 1L, false, "{}"),
                row(3, "c", null, false, "{}"),
                row(4, "d", 1L, false, "{\"x\": "),
                row(5, "e", 1L, false, null),
                row(6, "f", 2L, true, null),
                row(7, "g", 1L, false, "[1, 2]"),
                row(8, "h", 1L, false, "{} trailing"),
                row(9, "i", 3L, true, "\"not an object\""),
                row(10, "j", 1L, false, "{\"card\": \"SECRET-4111\" oops}"),
                new OutboxRecord(11, "k", 1L, false, "{}", Instant.now().minus(Duration.ofDays(2)), 1)),
                "orders", Duration.ofDays(1));
        assertEquals(List.of(1L, 6L, 9L), cleaned.valid().stream().map(OutboxRecord::id).toList(),
                "a delete ignores whatever payload it carries");
        assertEquals("business key is missing", cleaned.rejected().get(2L));
        assertEquals("version is missing", cleaned.rejected().get(3L));
        assertTrue(cleaned.rejected().get(4L).startsWith("payload is not valid JSON"));
        assertEquals("payload is missing for an upsert", cleaned.rejected().get(5L));
        assertEquals("payload is not a JSON object", cleaned.rejected().get(7L));
        assertTrue(cleaned.rejected().get(8L).contains("trailing") || cleaned.rejected().get(8L).contains("JSON"));
        assertNull(Cleaner.problem(row(9, "i", 1L, true, "{\"reason\": \"gone\"}")));
        assertFalse(cleaned.rejected().get(10L).contains("SECRET"), "reasons never quote payload data");
        assertTrue(cleaned.rejected().get(11L).startsWith("too late")
                && cleaned.rejected().get(11L).contains("tributary.pipelines.orders.retention.tombstones"));
    }

    @Test
    void rulesCleanUpsertsFilterAndRejectAndLeaveDeletesAlone() throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            CleanRules rules = CleanRules.compile("orders", List.of(TestRule.of("filter").when("$[?(@.test == true)]"),
                    TestRule.of("required").field("$.email"), TestRule.of("lowercase").field("$.email")), camel);
            Cleaner.Cleaned cleaned = new Cleaner().clean(List.of(row(1, "a", 1L, false, "{\"email\": \"A@B\"}"),
                    row(2, "b", 1L, false, "{\"email\": \"x@y\", \"test\": true}"), row(3, "c", 1L, false, "{}"),
                    row(4, "d", 2L, true, "{\"test\": true}"), row(5, "e", 1L, false, "{\"x\": ")), "orders",
                    Duration.ofDays(1), 1_000_000, rules);
            assertEquals(List.of(1L, 4L), cleaned.valid().stream().map(OutboxRecord::id).toList());
            assertEquals("{\"email\":\"a@b\"}", cleaned.valid().get(0).payload(), "the cleaned payload goes on");
            assertEquals("{\"test\": true}", cleaned.valid().get(1).payload(), "deletes never go through the rules");
            assertEquals(java.util.Map.of(2L, "filtered by rules[0] filter"), cleaned.filtered());
            assertEquals("rules[1] required: field $.email is missing or null", cleaned.rejected().get(3L));
            assertTrue(cleaned.rejected().get(5L).startsWith("payload is not valid JSON"), "structural checks come first");
        }
    }

    @Test
    void theSizeLimitAppliesToTheCleanedPayload() {
        String small = "{\"x\": 1}";
        String big = "{\"x\": \"" + "a".repeat(2_000) + "\"}";
        CleanRules grow = CleanRules.compile("orders",
                List.of(TestRule.of("default").field("$.note").value("b".repeat(2_000))), null);
        CleanRules shrink = CleanRules.compile("orders", List.of(TestRule.of("drop").field("$.x")), null);
        Cleaner.Cleaned grown = new Cleaner().clean(List.of(row(1, "a", 1L, false, small)), "orders", Duration.ofDays(1),
                1_000, grow);
        assertTrue(grown.rejected().get(1L).contains("over the limit"), "a rule that makes the record too large");
        Cleaner.Cleaned shrunk = new Cleaner().clean(List.of(row(1, "a", 1L, false, big)), "orders", Duration.ofDays(1),
                1_000, shrink);
        assertEquals("{}", shrunk.valid().get(0).payload(), "a rule that makes it small enough");
    }
}
