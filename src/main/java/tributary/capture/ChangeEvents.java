package tributary.capture;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import tributary.outbox.OutboxRecord;

/**
 * Turns the change log reader's events into the pipeline's records: the table's primary key as the business key,
 * the row after the change as a JSON payload (or a delete), and a version that orders a key's changes.
 *
 * <p>Versions: a streamed change carries its log position (see {@link #position}). Changes of one key are serialised by the row's
 * lock (an update waits for the previous writer's commit, an insert of a deleted key for the delete's commit), so a
 * later change of a key always has a higher LSN. A snapshot row carries version 0: it is the row as it was before
 * every change the stream delivers for that key, so it fills a key the target does not hold and never overwrites
 * one it does (the sink's version guard) — not even a tombstone.
 */
public final class ChangeEvents {

    /** Debezium's stand-in for a TOASTed column an update did not change (not in the log without REPLICA IDENTITY FULL). */
    static final String UNAVAILABLE = "__debezium_unavailable_value";

    private static final JsonFactory JSON = new JsonFactory();

    /** What one event is to the pipeline. */
    public enum Kind {
        /** A row change (insert, update, delete) or a snapshot row: it becomes a record. */
        CHANGE,
        /** Anything else the reader emits (heartbeats, the signal table's rows, tombstones): no record. */
        SKIP
    }

    private ChangeEvents() {
    }

    public static Kind kind(SourceRecord event, String signalTopic) {
        if (event.value() == null || !(event.value() instanceof Struct value) || event.valueSchema() == null
                || event.valueSchema().name() == null || !event.valueSchema().name().endsWith(".Envelope")
                || value.schema().field("op") == null) {
            return Kind.SKIP;
        }
        return event.topic().equals(signalTopic) ? Kind.SKIP : Kind.CHANGE;
    }

    /** Whether the event is a snapshot row (op {@code r}). */
    public static boolean snapshot(SourceRecord event) {
        return "r".equals(((Struct) event.value()).getString("op"));
    }

    /** The pipeline record of one change event; {@code problem} is set when the row cannot be carried faithfully. */
    public static OutboxRecord toRecord(long id, SourceRecord event) {
        Struct value = (Struct) event.value();
        String op = value.getString("op");
        Struct source = value.getStruct("source");
        boolean delete = "d".equals(op);
        boolean read = "r".equals(op);
        Long position = source == null ? null : position(source);
        long version = read ? 0L : position == null ? -1L : position;
        // Enters the pipeline now: the age limits downstream count from here, as from an outbox row's creation.
        Instant at = Instant.now();
        String key = key(event.key());
        String problem = position == null && !read ? "change event without a log position" : null;
        Struct after = delete ? null : value.getStruct("after");
        String payload = null;
        if (after != null) {
            String[] unavailable = new String[1];
            payload = json(after, unavailable);
            if (unavailable[0] != null) {
                problem = "column " + unavailable[0] + " was not in the change log (a TOASTed value the update did not "
                        + "change): set REPLICA IDENTITY FULL on the table";
            }
        } else if (!delete) {
            problem = "change event without the row after the change";
        }
        return new OutboxRecord(id, key, version, delete, payload, at, 0, problem);
    }

    /**
     * The change's log position as one number: PostgreSQL's LSN; for the binary log the file's sequence number, the
     * event's position in the file and the row's index in the event ({@code file << 42 | pos << 10 | row}: binary
     * log files are at most 1 GiB, so positions fit 32 bits, and a row index beyond 1,023 in one event counts as
     * 1,023 — rows of one event are different keys but for the rarest statements).
     */
    static Long position(Struct source) {
        if (source.schema().field("lsn") != null) {
            return source.getInt64("lsn");
        }
        if (source.schema().field("file") != null && source.schema().field("pos") != null) {
            String file = source.getString("file");
            Long pos = source.getInt64("pos");
            if (file == null || pos == null || file.lastIndexOf('.') < 0) {
                return null;
            }
            long index = Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
            Integer row = source.schema().field("row") == null ? null : source.getInt32("row");
            return (index << 42) | (pos << 10) | Math.min(row == null ? 0 : row, 1023);
        }
        return null;
    }

    /**
     * The business key: a single key column's value as text ({@code 42}, {@code a-1}); a composite key as a JSON
     * array of its values in key column order ({@code [42,"EU"]}), so no two different keys share a text.
     */
    public static String key(Object key) {
        if (!(key instanceof Struct k)) {
            throw new IllegalArgumentException("change event without a primary key: the table needs a primary key");
        }
        List<Field> fields = k.schema().fields();
        if (fields.size() == 1) {
            Object v = k.get(fields.get(0));
            if (v instanceof String s) {
                return s;
            }
            return scalarJson(fields.get(0).schema(), v);
        }
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartArray();
            for (Field f : fields) {
                write(g, f.schema(), k.get(f), null, f.name());
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static String scalarJson(Schema schema, Object v) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            write(g, schema, v, null, "key");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String s = out.toString();
        return s.length() > 1 && s.charAt(0) == '"' ? s.substring(1, s.length() - 1) : s;
    }

    /** A row as a JSON object: numbers exact, dates and times as ISO-8601 text, json columns embedded. */
    static String json(Struct row, String[] unavailable) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            write(g, row.schema(), row, unavailable, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, Schema schema, Object v, String[] unavailable, String field)
            throws IOException {
        if (v == null) {
            g.writeNull();
            return;
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case "org.apache.kafka.connect.data.Decimal" -> {
                    g.writeNumber(((BigDecimal) v).toPlainString());
                    return;
                }
                case "io.debezium.data.VariableScaleDecimal" -> {
                    Struct s = (Struct) v;
                    byte[] bytes = bytes(s.get("value"));
                    g.writeNumber(new BigDecimal(new BigInteger(bytes), s.getInt32("scale")).toPlainString());
                    return;
                }
                case "io.debezium.time.Date" -> {
                    g.writeString(LocalDate.ofEpochDay(((Number) v).longValue()).toString());
                    return;
                }
                case "org.apache.kafka.connect.data.Date" -> {
                    g.writeString(LocalDate.ofInstant(((java.util.Date) v).toInstant(), ZoneOffset.UTC).toString());
                    return;
                }
                case "io.debezium.time.Time" -> {
                    g.writeString(LocalTime.ofNanoOfDay(((Number) v).longValue() * 1_000_000L).format(TIME));
                    return;
                }
                case "io.debezium.time.MicroTime" -> {
                    g.writeString(LocalTime.ofNanoOfDay(((Number) v).longValue() * 1_000L).format(TIME));
                    return;
                }
                case "io.debezium.time.NanoTime" -> {
                    g.writeString(LocalTime.ofNanoOfDay(((Number) v).longValue()).format(TIME));
                    return;
                }
                case "org.apache.kafka.connect.data.Time" -> {
                    g.writeString(LocalTime.ofInstant(((java.util.Date) v).toInstant(), ZoneOffset.UTC).format(TIME));
                    return;
                }
                case "io.debezium.time.Timestamp" -> {
                    g.writeString(local(((Number) v).longValue(), 1_000_000L));
                    return;
                }
                case "io.debezium.time.MicroTimestamp" -> {
                    g.writeString(local(((Number) v).longValue(), 1_000L));
                    return;
                }
                case "io.debezium.time.NanoTimestamp" -> {
                    g.writeString(local(((Number) v).longValue(), 1L));
                    return;
                }
                case "org.apache.kafka.connect.data.Timestamp" -> {
                    g.writeString(LocalDateTime.ofInstant(((java.util.Date) v).toInstant(), ZoneOffset.UTC).format(STAMP));
                    return;
                }
                case "io.debezium.data.Json", "io.debezium.data.Jsonb" -> {
                    g.writeRawValue((String) v);
                    return;
                }
                default -> {
                    // ZonedTimestamp, ZonedTime, Uuid, Xml, Enum and the like are text already.
                }
            }
        }
        switch (schema.type()) {
            case INT8, INT16, INT32, INT64 -> g.writeNumber(((Number) v).longValue());
            case FLOAT32 -> number(g, ((Number) v).floatValue());
            case FLOAT64 -> number(g, ((Number) v).doubleValue());
            case BOOLEAN -> g.writeBoolean((Boolean) v);
            case STRING -> {
                String s = (String) v;
                if (UNAVAILABLE.equals(s) && unavailable != null && unavailable[0] == null) {
                    unavailable[0] = field;
                }
                g.writeString(s);
            }
            case BYTES -> g.writeString(Base64.getEncoder().encodeToString(bytes(v)));
            case ARRAY -> {
                g.writeStartArray();
                for (Object item : (List<?>) v) {
                    write(g, schema.valueSchema(), item, unavailable, field);
                }
                g.writeEndArray();
            }
            case MAP -> {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(g, schema.valueSchema(), e.getValue(), unavailable, field);
                }
                g.writeEndObject();
            }
            case STRUCT -> {
                Struct s = (Struct) v;
                g.writeStartObject();
                for (Field f : s.schema().fields()) {
                    g.writeFieldName(f.name());
                    write(g, f.schema(), s.get(f), unavailable, field == null ? f.name() : field + "." + f.name());
                }
                g.writeEndObject();
            }
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_TIME;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

    private static String local(long units, long nanosPerUnit) {
        long perSecond = 1_000_000_000L / nanosPerUnit;
        long seconds = Math.floorDiv(units, perSecond);
        long nanos = Math.floorMod(units, perSecond) * nanosPerUnit;
        return LocalDateTime.ofEpochSecond(seconds, (int) nanos, ZoneOffset.UTC).format(STAMP);
    }

    /** JSON has no NaN or infinity: those are written as text, as PostgreSQL spells them. */
    private static void number(JsonGenerator g, double d) throws IOException {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            g.writeString(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        } else {
            g.writeNumber(d);
        }
    }

    private static byte[] bytes(Object v) {
        if (v instanceof ByteBuffer b) {
            byte[] out = new byte[b.remaining()];
            b.duplicate().get(out);
            return out;
        }
        return (byte[]) v;
    }
}
