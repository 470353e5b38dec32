package tributary.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.util.Map;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

import tributary.outbox.OutboxRecord;

/** The reader's events as pipeline records: keys, versions, deletes and every value type the payload carries. */
class ChangeEventsTest {

    private static final Schema KEY = SchemaBuilder.struct().name("k.Key").field("id", Schema.INT64_SCHEMA).build();
    private static final Schema VARIABLE = SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal")
            .field("scale", Schema.INT32_SCHEMA).field("value", Schema.BYTES_SCHEMA).optional().build();
    private static final Schema ROW = SchemaBuilder.struct().name("k.Value").optional()
            .field("id", Schema.INT64_SCHEMA)
            .field("amount", Decimal.builder(2).optional().build())
            .field("ratio", VARIABLE)
            .field("day", SchemaBuilder.int32().name("io.debezium.time.Date").optional().build())
            .field("at", SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build())
            .field("at_tz", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").optional().build())
            .field("clock", SchemaBuilder.int64().name("io.debezium.time.MicroTime").optional().build())
            .field("doc", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
            .field("score", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", Schema.OPTIONAL_BOOLEAN_SCHEMA)
            .field("raw", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    private static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("lsn", Schema.OPTIONAL_INT64_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("tributary_t.public.t.Envelope")
            .field("before", ROW).field("after", ROW).field("source", SOURCE)
            .field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();

    private static Struct row(long id) {
        return new Struct(ROW).put("id", id).put("amount", new BigDecimal("12.50"))
                .put("ratio", new Struct(VARIABLE).put("scale", 3).put("value", ByteBuffer.wrap(
                        new java.math.BigInteger("-123456").toByteArray())))
                .put("day", (int) LocalDate.of(2026, 12, 2).toEpochDay())
                .put("at", 1_764_633_600_123_456L).put("at_tz", "2026-12-02T10:00:00.5Z")
                .put("clock", 3_723_000_001L).put("doc", "{\"a\": [1, 2]}").put("score", Double.NaN)
                .put("flag", true).put("raw", new byte[] { 1, 2, 3 }).put("note", null);
    }

    private static SourceRecord event(String op, Long lsn, Struct after, Struct key) {
        Struct value = new Struct(ENVELOPE).put("op", op).put("after", after).put("ts_ms", 1L)
                .put("source", new Struct(SOURCE).put("lsn", lsn).put("ts_ms", 2L));
        return new SourceRecord(Map.of(), Map.of(), "tributary_t.public.t", null, key.schema(), key, ENVELOPE, value);
    }

    @Test
    void aStreamedChangeCarriesItsLogPositionAndEveryTypeAsJson() {
        SourceRecord e = event("u", 987_654L, row(42), new Struct(KEY).put("id", 42L));
        assertEquals(ChangeEvents.Kind.CHANGE, ChangeEvents.kind(e, "tributary_t.public.tributary_signal_t"));
        OutboxRecord r = ChangeEvents.toRecord(7, e);
        assertEquals(7, r.id());
        assertEquals("42", r.key());
        assertEquals(987_654L, r.version());
        assertFalse(r.delete());
        assertNull(r.problem());
        assertEquals("{\"id\":42,\"amount\":12.50,\"ratio\":-123.456,\"day\":\"2026-12-02\","
                + "\"at\":\"2025-12-02T00:00:00.123456\",\"at_tz\":\"2026-12-02T10:00:00.5Z\",\"clock\":\"01:02:03.000001\","
                + "\"doc\":{\"a\": [1, 2]},\"score\":\"NaN\",\"flag\":true,\"raw\":\"AQID\",\"note\":null}", r.payload());
    }

    @Test
    void snapshotRowsHaveVersionZeroSoTheyNeverOverwriteAStreamedChange() {
        OutboxRecord r = ChangeEvents.toRecord(1, event("r", null, row(5), new Struct(KEY).put("id", 5L)));
        assertEquals(0L, r.version());
        assertNull(r.problem());
        assertTrue(ChangeEvents.snapshot(event("r", null, row(5), new Struct(KEY).put("id", 5L))));
    }

    @Test
    void deletesCarryNoPayload() {
        OutboxRecord r = ChangeEvents.toRecord(1, event("d", 55L, null, new Struct(KEY).put("id", 5L)));
        assertTrue(r.delete());
        assertNull(r.payload());
        assertEquals(55L, r.version());
    }

    @Test
    void compositeKeysAreJsonArraysInKeyOrderAndTextKeysStayText() {
        Schema composite = SchemaBuilder.struct().name("k2.Key").field("id", Schema.INT64_SCHEMA)
                .field("region", Schema.STRING_SCHEMA).build();
        assertEquals("[42,\"EU\"]", ChangeEvents.key(new Struct(composite).put("id", 42L).put("region", "EU")));
        Schema text = SchemaBuilder.struct().name("k3.Key").field("code", Schema.STRING_SCHEMA).build();
        assertEquals("a-1", ChangeEvents.key(new Struct(text).put("code", "a-1")));
    }

    @Test
    void aValueTheLogDidNotCarryMakesTheRecordAProblemNamingTheFixNotTheValue() {
        Struct after = row(3).put("note", ChangeEvents.UNAVAILABLE);
        OutboxRecord r = ChangeEvents.toRecord(1, event("u", 9L, after, new Struct(KEY).put("id", 3L)));
        assertEquals("column note was not in the change log (a TOASTed value the update did not change): set "
                + "REPLICA IDENTITY FULL on the table", r.problem());
    }

    @Test
    void heartbeatsAndSignalRowsAreNotRecords() {
        Schema hb = SchemaBuilder.struct().name("io.debezium.connector.common.Heartbeat")
                .field("ts_ms", Schema.INT64_SCHEMA).build();
        SourceRecord heartbeat = new SourceRecord(Map.of(), Map.of(), "__debezium-heartbeat.tributary_t", null, null,
                null, hb, new Struct(hb).put("ts_ms", 1L));
        assertEquals(ChangeEvents.Kind.SKIP, ChangeEvents.kind(heartbeat, "x"));
        SourceRecord signal = event("c", 1L, row(1), new Struct(KEY).put("id", 1L));
        assertEquals(ChangeEvents.Kind.SKIP, ChangeEvents.kind(signal, "tributary_t.public.t"));
    }
}
