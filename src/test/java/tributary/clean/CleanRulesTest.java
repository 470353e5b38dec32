package tributary.clean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import tributary.testing.TestRule;

/** The cleaning rules on payloads, and every configuration mistake failing at start-up with its key. */
class CleanRulesTest {

    private static final CamelContext CAMEL = new DefaultCamelContext();
    private static final String SECRET = "0123456789abcdef-secret";
    private static final String KEY = "tributary.pipelines.orders.clean.rules[0].";

    @AfterAll
    static void close() throws Exception {
        CAMEL.close();
    }

    private static CleanRules rules(TestRule... rules) {
        return CleanRules.compile("orders", List.of(rules), CAMEL);
    }

    private static String cleaned(String payload, TestRule... rules) {
        CleanRules.Outcome o = rules(rules).apply(payload);
        assertNull(o.filteredBy(), "not filtered");
        assertNull(o.deadReason(), "not DEAD");
        return o.payload();
    }

    private static String dead(String payload, TestRule... rules) {
        CleanRules.Outcome o = rules(rules).apply(payload);
        assertNull(o.payload(), "no payload for a DEAD record");
        assertNull(o.filteredBy());
        return o.deadReason();
    }

    private static String failure(TestRule... rules) {
        return assertThrows(IllegalArgumentException.class, () -> rules(rules)).getMessage();
    }

    private static String hmac(String secret, String text) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void noRulesCostNothing() {
        assertTrue(CleanRules.compile("orders", List.of(), CAMEL).isEmpty());
        assertTrue(CleanRules.compile("orders", null, null).isEmpty());
        assertFalse(rules(TestRule.of("trim").field("$.a")).isEmpty());
    }

    @Test
    void filterDropsMatchingRecordsAndKeepsTheOthersUntouched() {
        CleanRules r = rules(TestRule.of("filter").when("$[?(@.status == 'test')]"));
        CleanRules.Outcome hit = r.apply("{\"status\": \"test\", \"id\": 1}");
        assertEquals("rules[0] filter", hit.filteredBy());
        assertNull(hit.payload());
        assertNull(hit.deadReason());
        String live = "{\"status\":  \"live\", \"id\": 1}";
        assertEquals(live, r.apply(live).payload(), "a record no rule changes keeps its text exactly");
        assertEquals(live.replace("status", "state"), r.apply(live.replace("status", "state")).payload(),
                "a condition on a field the record lacks does not match");
    }

    @Test
    void filterSeesNestedFieldsAndTheEffectOfEarlierRules() {
        CleanRules r = rules(TestRule.of("rename").field("$.customer.land").to("country"),
                TestRule.of("filter").when("$[?(@.customer.country in ['XX', 'YY'] || @.amount < 0)]"));
        assertEquals("rules[1] filter", r.apply("{\"customer\": {\"land\": \"XX\"}, \"amount\": 5}").filteredBy());
        assertEquals("rules[1] filter", r.apply("{\"customer\": {\"land\": \"DE\"}, \"amount\": -0.01}").filteredBy());
        assertEquals("{\"customer\":{\"country\":\"DE\"},\"amount\":5}",
                r.apply("{\"customer\": {\"land\": \"DE\"}, \"amount\": 5}").payload());
    }

    @Test
    void renameMovesTheValueWithinItsObjectAndKeepsItsPosition() {
        assertEquals("{\"a\":1,\"email\":\"x@y\",\"c\":{\"d\":2}}",
                cleaned("{\"a\": 1, \"mail\": \"x@y\", \"c\": {\"d\": 2}}", TestRule.of("rename").field("$.mail").to("email")));
        assertEquals("{\"customer\":{\"e mail\":\"x@y\",\"z\":0}}", cleaned("{\"customer\": {\"mail\": \"x@y\", \"z\": 0}}",
                TestRule.of("rename").field("$['customer']['mail']").to("e mail")));
        assertEquals("{\"new\":2}", cleaned("{\"new\": 1, \"old\": 2}", TestRule.of("rename").field("$.old").to("new")),
                "the renamed field replaces one of its new name");
        String absent = "{\"other\": 1}";
        assertEquals(absent, cleaned(absent, TestRule.of("rename").field("$.mail").to("email")));
        assertEquals(absent, cleaned(absent, TestRule.of("rename").field("$.x.mail").to("email")));
    }

    @Test
    void dropRemovesFieldsAndIgnoresAbsentOnes() {
        assertEquals("{\"b\":2,\"c\":{\"e\":4}}", cleaned("{\"a\": 1, \"b\": 2, \"c\": {\"d\": 3, \"e\": 4}}",
                TestRule.of("drop").field("$.a").fields("$.c.d", "$.nothing", "$.x.y")));
    }

    @Test
    void defaultFillsAbsentAndNullFieldsWithJsonOrText() {
        assertEquals("{\"currency\":\"EUR\"}", cleaned("{}", TestRule.of("default").field("$.currency").value("EUR")));
        assertEquals("{\"currency\":\"EUR\"}", cleaned("{\"currency\": null}",
                TestRule.of("default").field("$.currency").value("\"EUR\"")));
        assertEquals("{\"currency\":\"USD\"}", cleaned("{\"currency\":\"USD\"}",
                TestRule.of("default").field("$.currency").value("EUR")));
        assertEquals("{\"n\":0,\"ok\":true,\"o\":{\"k\":[1,2]}}", cleaned("{}", TestRule.of("default").field("$.n").value("0"),
                TestRule.of("default").field("$.ok").value("true"),
                TestRule.of("default").field("$.o").value("{\"k\": [1, 2]}")));
        assertEquals("{\"n\":\"12 apples\"}", cleaned("{}", TestRule.of("default").field("$.n").value("12 apples")),
                "text that is not JSON as a whole is a string");
        assertEquals("{\"c\":{\"country\":\"DE\"}}", cleaned("{}", TestRule.of("default").field("$.c.country").value("DE")),
                "missing parents are created");
        assertEquals("rules[0] default: field $.c.country cannot be set: a parent of it is not an object",
                dead("{\"c\": \"SECRET-text\"}", TestRule.of("default").field("$.c.country").value("DE")));
    }

    @Test
    void requiredMakesRecordsWithoutTheFieldDeadNamingRuleAndField() {
        TestRule rule = TestRule.of("required").fields("$.id", "$.customer.email");
        assertEquals("{\"id\":1,\"customer\":{\"email\":\"a@b\"}}", cleaned("{\"id\":1,\"customer\":{\"email\":\"a@b\"}}", rule));
        assertEquals("rules[1] required: field $.customer.email is missing or null",
                dead("{\"id\": 1, \"customer\": {\"email\": null}}", TestRule.of("trim").field("$.id"), rule));
        assertEquals("rules[0] required: field $.id is missing or null", dead("{\"customer\": {}}", rule));
        assertEquals("rules[0] required: field $['a b'] is missing or null",
                dead("{\"a\": 1}", TestRule.of("required").field("$['a b']")));
    }

    @Test
    void numbersStayExactAndFieldsKeepTheirOrder() {
        String out = cleaned("{\"z\": 12345678901234.56, \"a\": 1.10, \"m\": 123456789012345678901234567890, "
                + "\"e\": 1E+400, \"s\": \" x \"}", TestRule.of("trim").field("$.s"));
        assertEquals("{\"z\":12345678901234.56,\"a\":1.10,\"m\":123456789012345678901234567890,\"e\":1E+400,\"s\":\"x\"}", out);
    }

    @Test
    void castsNumbersWithTheDeclaredDecimalSeparator() {
        TestRule comma = TestRule.of("cast").field("$.amount").as("number").pattern(",");
        assertEquals("{\"amount\":12345678901234.56}", cleaned("{\"amount\": \"12345678901234,56\"}", comma));
        assertEquals("{\"amount\":1.50}", cleaned("{\"amount\": \" 1,50 \"}", comma));
        assertEquals("{\"amount\":7.5}", cleaned("{\"amount\":7.5}", comma), "a number passes");
        assertEquals("{\"amount\":null}", cleaned("{\"amount\":null}", comma), "null passes");
        assertEquals("{}", cleaned("{}", comma), "absent passes");
        assertEquals("{\"amount\":-3.25}", cleaned("{\"amount\": \"-3.25\"}", TestRule.of("cast").field("$.amount").as("number")));
        for (String bad : List.of("1.234,50", "12,5,0", "SECRET", "", "NaN", "0x10")) {
            String reason = dead("{\"amount\": \"" + bad + "\"}", comma);
            assertEquals("rules[0] cast: field $.amount cannot be cast to number", reason, bad);
        }
        assertEquals("rules[0] cast: field $.amount cannot be cast to number",
                dead("{\"amount\": true}", comma), "only strings are cast");
    }

    @Test
    void castsIntegersAndBooleans() {
        TestRule integer = TestRule.of("cast").field("$.n").as("integer");
        assertEquals("{\"n\":42}", cleaned("{\"n\": \"42\"}", integer));
        assertEquals("{\"n\":123456789012345678901234567890}", cleaned("{\"n\": \"123456789012345678901234567890\"}", integer));
        assertEquals("{\"n\":-7}", cleaned("{\"n\":-7}", integer));
        assertEquals("rules[0] cast: field $.n cannot be cast to integer", dead("{\"n\": \"4.5\"}", integer));
        assertEquals("rules[0] cast: field $.n cannot be cast to integer", dead("{\"n\": \"1e999999\"}", integer));

        TestRule yesNo = TestRule.of("cast").field("$.active").as("boolean").pattern("ja/nein");
        assertEquals("{\"active\":true}", cleaned("{\"active\": \"JA\"}", yesNo));
        assertEquals("{\"active\":false}", cleaned("{\"active\": \"Nein\"}", yesNo));
        assertEquals("{\"active\":false}", cleaned("{\"active\":false}", yesNo));
        assertEquals("{\"active\":true}", cleaned("{\"active\": \"TRUE\"}", TestRule.of("cast").field("$.active").as("boolean")));
        assertEquals("rules[0] cast: field $.active cannot be cast to boolean", dead("{\"active\": \"true\"}", yesNo));
    }

    @Test
    void castsDatesAndTimesToIsoWithTheDeclaredPattern() {
        assertEquals("{\"d\":\"2026-12-02\"}",
                cleaned("{\"d\": \"02.12.2026\"}", TestRule.of("cast").field("$.d").as("date").pattern("dd.MM.yyyy")));
        assertEquals("{\"d\":\"2026-12-02\"}", cleaned("{\"d\":\"2026-12-02\"}", TestRule.of("cast").field("$.d").as("date")));
        assertEquals("rules[0] cast: field $.d cannot be cast to date",
                dead("{\"d\": \"31.02.2026\"}", TestRule.of("cast").field("$.d").as("date").pattern("dd.MM.yyyy")),
                "a day that does not exist is refused, not moved");
        assertEquals("{\"t\":\"2026-12-02T10:15:00\"}", cleaned("{\"t\": \"02/12/2026 10:15\"}",
                TestRule.of("cast").field("$.t").as("timestamp").pattern("dd/MM/yyyy HH:mm")));
        TestRule tz = TestRule.of("cast").field("$.t").as("timestamptz").pattern("yyyy-MM-dd HH:mm:ss Z");
        assertEquals("{\"t\":\"2026-12-02T10:15:30+01:00\"}", cleaned("{\"t\": \"2026-12-02 10:15:30 +0100\"}", tz));
        assertEquals("{\"t\":\"2026-12-02T10:15:30Z\"}", cleaned("{\"t\": \"2026-12-02 10:15:30 +0000\"}", tz));
        TestRule iso = TestRule.of("cast").field("$.t").as("timestamptz");
        assertEquals("{\"t\":\"2026-12-02T10:15:30Z\"}", cleaned("{\"t\":\"2026-12-02T10:15:30Z\"}", iso));
        assertEquals("{\"t\":\"2026-12-02T10:15:30+01:00\"}", cleaned("{\"t\": \"2026-12-02T10:15:30+01:00[Europe/Berlin]\"}", iso));
        String reason = dead("{\"t\": \"2026-12-02T10:15:30\"}", iso);
        assertEquals("rules[0] cast: field $.t cannot be cast to timestamptz", reason, "a time without offset is refused");
        assertFalse(reason.contains("2026"), "the reason never carries the value");
    }

    @Test
    void redactKeepsOnlyTheLastCharacters() {
        TestRule card = TestRule.of("mask").field("$.card").mode("redact").keepLast(4);
        assertEquals("{\"card\":\"***1111\"}", cleaned("{\"card\": \"4111222233331111\"}", card));
        assertEquals("{\"card\":\"***6789\"}", cleaned("{\"card\": 123456789}", card));
        assertEquals("{\"card\":\"***\"}", cleaned("{\"card\": \"1234\"}", card), "a short value is not shown whole");
        assertEquals("{\"card\":null}", cleaned("{\"card\":null}", card));
        assertEquals("{\"p\":{\"name\":\"[removed]\"}}", cleaned("{\"p\": {\"name\": \"Jane Doe\"}}",
                TestRule.of("mask").field("$.p.name").mode("redact").text("[removed]")));
    }

    @Test
    void hashIsAKeyedDeterministicTokenThatHidesTheValue() throws Exception {
        TestRule hash = TestRule.of("mask").field("$.customer.id").mode("hash").secret(SECRET);
        String a = cleaned("{\"customer\": {\"id\": \"C-4711\"}}", hash);
        String expected = hmac(SECRET, "C-4711");
        assertEquals("{\"customer\":{\"id\":\"" + expected + "\"}}", a);
        assertTrue(expected.matches("[0-9a-f]{64}"), expected);
        assertFalse(a.contains("4711"));
        assertEquals(a, cleaned("{\"customer\": {\"id\": \"C-4711\"}}", hash), "the same value gives the same token");
        assertNotEquals(a, cleaned("{\"customer\": {\"id\": \"C-4712\"}}", hash));
        String otherKey = cleaned("{\"customer\": {\"id\": \"C-4711\"}}",
                TestRule.of("mask").field("$.customer.id").mode("hash").secret("another-secret-of-16+bytes"));
        assertNotEquals(a, otherKey, "another secret gives another token");
        assertEquals(cleaned("{\"customer\": {\"id\": \"12345\"}}", hash), cleaned("{\"customer\": {\"id\": 12345}}", hash),
                "a number hashes as its JSON text, so joins with a text column still work");
        assertEquals("{\"customer\":{\"id\":null}}", cleaned("{\"customer\":{\"id\":null}}", hash));
        assertEquals("rules[0] mask: field $.customer.id cannot be hashed: it is an object or array",
                dead("{\"customer\": {\"id\": {\"x\": \"SECRET\"}}}", hash));
    }

    @Test
    void textRulesChangeStringsOnly() {
        assertEquals("{\"a\":\"x y\",\"b\":7,\"c\":null,\"d\":{\"e\":\"z\"}}", cleaned(
                "{\"a\": \"  x y \", \"b\": 7, \"c\": null, \"d\": {\"e\": \" z\"}}", TestRule.of("trim").fields("$.a", "$.b", "$.c", "$.d.e")));
        assertEquals("{\"email\":\"jane@example.org\"}", cleaned("{\"email\": \"Jane@Example.ORG\"}",
                TestRule.of("lowercase").field("$.email")));
        assertEquals("{\"country\":\"DE\",\"n\":1}", cleaned("{\"country\": \"de\", \"n\": 1}",
                TestRule.of("uppercase").fields("$.country", "$.n")));
    }

    @Test
    void rulesRunInOrder() {
        String out = cleaned("{\"Mail\": \" Jane@Example.org \"}", TestRule.of("rename").field("$.Mail").to("email"),
                TestRule.of("trim").field("$.email"), TestRule.of("lowercase").field("$.email"),
                TestRule.of("required").field("$.email"));
        assertEquals("{\"email\":\"jane@example.org\"}", out);
    }

    @Test
    void deadReasonsNeverCarryTheValue() {
        String value = "SECRET-4111";
        for (TestRule rule : List.of(TestRule.of("cast").field("$.v").as("date"),
                TestRule.of("cast").field("$.v").as("integer"), TestRule.of("cast").field("$.v").as("boolean"))) {
            String reason = dead("{\"v\": \"" + value + "\"}", rule);
            assertTrue(reason.startsWith("rules[0] cast: field $.v"), reason);
            assertFalse(reason.contains("SECRET"), reason);
        }
    }

    @Test
    void unknownTypesFailWithTheKeyAndTheKnownTypes() {
        String m = failure(TestRule.of("upper").field("$.a"));
        assertTrue(m.startsWith(KEY + "type: 'upper' is not a rule type"), m);
        assertTrue(m.contains("filter, rename, drop, default, required, cast, mask, trim, lowercase, uppercase"), m);
        String second = failure(TestRule.of("trim").field("$.a"), TestRule.of("nope"));
        assertTrue(second.startsWith("tributary.pipelines.orders.clean.rules[1].type: "), second);
    }

    @Test
    void fieldMistakesFailWithTheKey() {
        assertTrue(failure(TestRule.of("required")).startsWith(KEY + "field: missing"));
        assertTrue(failure(TestRule.of("trim").field("$.[")).startsWith(KEY + "field: '$.[' is not a valid JSONPath"));
        assertTrue(failure(TestRule.of("drop").fields("$.a", "$..email")).startsWith(KEY + "fields: '$..email' is not a definite"));
        assertTrue(failure(TestRule.of("drop").field("$.items[*].sku")).startsWith(KEY + "field: '$.items[*].sku' is not a definite"));
        assertTrue(failure(TestRule.of("drop").field("$.items[0]")).startsWith(KEY + "field: '$.items[0]' must name one field"));
        assertTrue(failure(TestRule.of("drop").field("$")).startsWith(KEY + "field: '$' names the whole payload"));
        assertTrue(failure(TestRule.of("rename").fields("$.a").to("b")).startsWith(KEY + "fields: a rename rule works on one field"));
        assertTrue(failure(TestRule.of("filter").when("$[?(@.a)]").field("$.a")).startsWith(KEY + "field: not used"));
    }

    @Test
    void optionMistakesFailWithTheKey() {
        assertTrue(failure(TestRule.of("rename").field("$.a")).startsWith(KEY + "to: missing"));
        assertTrue(failure(TestRule.of("rename").field("$.a").to("$.b")).startsWith(KEY + "to: '$.b' is not a plain field name"));
        assertTrue(failure(TestRule.of("rename").field("$.a").to("b.c")).startsWith(KEY + "to: "));
        assertTrue(failure(TestRule.of("rename").field("$.a").to(" b")).startsWith(KEY + "to: "));
        assertTrue(failure(TestRule.of("default").field("$.a")).startsWith(KEY + "value: missing"));
        assertTrue(failure(TestRule.of("cast").field("$.a")).startsWith(KEY + "as: missing"));
        String as = failure(TestRule.of("cast").field("$.a").as("money"));
        assertTrue(as.startsWith(KEY + "as: 'money' is not a cast type") && as.contains("timestamptz"), as);
        assertTrue(failure(TestRule.of("cast").field("$.a").as("date").pattern("dd.MM.yyyy{"))
                .startsWith(KEY + "pattern: 'dd.MM.yyyy{' is not a valid DateTimeFormatter pattern"));
        assertTrue(failure(TestRule.of("cast").field("$.a").as("number").pattern(";")).startsWith(KEY + "pattern: "));
        assertTrue(failure(TestRule.of("cast").field("$.a").as("boolean").pattern("yes")).startsWith(KEY + "pattern: "));
        assertTrue(failure(TestRule.of("trim").field("$.a").pattern("x")).startsWith(KEY + "pattern: not used by a trim rule"));
        assertTrue(failure(TestRule.of("filter")).startsWith(KEY + "when: missing"));
        assertTrue(failure(TestRule.of("filter").when("$[?(@.status == ]")).startsWith(KEY + "when: '$[?(@.status == ]' is not a valid"));
    }

    @Test
    void maskMistakesFailWithTheKeyAndNeverShowTheSecret() {
        assertTrue(failure(TestRule.of("mask").field("$.a")).startsWith(KEY + "mode: missing"));
        assertTrue(failure(TestRule.of("mask").field("$.a").mode("scramble")).startsWith(KEY + "mode: 'scramble' is not"));
        assertTrue(failure(TestRule.of("mask").field("$.a").mode("hash")).startsWith(KEY + "secret: missing"));
        String shortSecret = failure(TestRule.of("mask").field("$.a").mode("hash").secret("tooShort-9876"));
        assertTrue(shortSecret.startsWith(KEY + "secret: too short"), shortSecret);
        assertFalse(shortSecret.contains("tooShort-9876"), shortSecret);
        String redact = failure(TestRule.of("mask").field("$.a").mode("redact").secret("hidden-secret-of-16-bytes"));
        assertTrue(redact.startsWith(KEY + "secret: "), redact);
        assertFalse(redact.contains("hidden-secret"), redact);
        assertTrue(failure(TestRule.of("mask").field("$.a").mode("redact").keepLast(-1)).startsWith(KEY + "keep-last: "));
    }
}
