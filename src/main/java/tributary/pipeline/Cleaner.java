package tributary.pipeline;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import tributary.clean.CleanRules;
import tributary.outbox.OutboxRecord;

/**
 * The clean stage: a record needs a business key and a version, and an upsert needs a JSON object payload; then the
 * pipeline's cleaning rules run on each upsert. A record that breaks a rule is rejected with its reason, one a filter
 * matches is set aside; the rest of the batch flows on.
 */
public final class Cleaner {

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * Valid records in input order (with their cleaned payloads), the rejected ones by outbox id with their reasons,
     * and the filtered ones by outbox id with the filter that matched.
     */
    public record Cleaned(List<OutboxRecord> valid, Map<Long, String> rejected, Map<Long, String> filtered) {
    }

    /**
     * @param pipeline names the pipeline in reasons
     * @param tombstones the pipeline's tombstone retention: a record older than it could resurrect a key whose
     *        tombstone was already purged, so it is refused as too late
     */
    public Cleaned clean(List<OutboxRecord> records, String pipeline, Duration tombstones) {
        return clean(records, pipeline, tombstones, Integer.MAX_VALUE);
    }

    /**
     * @param maxRecordBytes the largest record Kafka and the spool take: a bigger one is refused here, before it is
     *        sealed, sent or spooled, instead of failing every retry
     */
    public Cleaned clean(List<OutboxRecord> records, String pipeline, Duration tombstones, int maxRecordBytes) {
        return clean(records, pipeline, tombstones, maxRecordBytes, CleanRules.none());
    }

    /**
     * @param rules the pipeline's cleaning rules, run on every upsert that passed the checks above; deletes carry no
     *        data to clean. The size limit applies to the cleaned payload, since rules can make it larger.
     */
    public Cleaned clean(List<OutboxRecord> records, String pipeline, Duration tombstones, int maxRecordBytes,
            CleanRules rules) {
        List<OutboxRecord> valid = new ArrayList<>(records.size());
        Map<Long, String> rejected = new LinkedHashMap<>();
        Map<Long, String> filtered = new LinkedHashMap<>();
        Instant limit = Instant.now().minus(tombstones);
        for (OutboxRecord r : records) {
            String reason = problem(r);
            if (reason == null && r.createdAt().isBefore(limit)) {
                reason = tooLate(pipeline, tombstones);
            }
            if (reason == null && !r.delete() && !rules.isEmpty()) {
                CleanRules.Outcome outcome = rules.apply(r.payload());
                if (outcome.filteredBy() != null) {
                    filtered.put(r.id(), "filtered by " + outcome.filteredBy());
                    continue;
                }
                reason = outcome.deadReason();
                if (reason == null) {
                    r = r.withPayload(outcome.payload());
                }
            }
            if (reason == null) {
                reason = tooLarge(r, maxRecordBytes);
            }
            if (reason == null) {
                valid.add(r);
            } else {
                rejected.put(r.id(), reason);
            }
        }
        return new Cleaned(valid, rejected, filtered);
    }

    /** Bytes a sealed record adds besides its payload and key: envelope fields, seal header, IV, tag, headers. */
    static final int RECORD_OVERHEAD = 256;

    /** Why a record too large for Kafka is refused, or null. Counts exactly only when a cheap bound says it may be. */
    static String tooLarge(OutboxRecord r, int maxRecordBytes) {
        String payload = r.delete() || r.payload() == null ? "" : r.payload();
        long bound = 3L * (payload.length() + r.key().length()) + RECORD_OVERHEAD;
        if (bound <= maxRecordBytes) {
            return null;
        }
        long size = (long) payload.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + r.key().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + RECORD_OVERHEAD;
        return size <= maxRecordBytes ? null
                : "record of " + size + " bytes is " + (size - maxRecordBytes) + " bytes over the limit of " + maxRecordBytes
                        + " (tributary.kafka.max-record-bytes)";
    }

    /** Why a record older than the tombstone retention is refused. */
    public static String tooLate(String pipeline, Duration tombstones) {
        return "too late: created longer ago than tributary.pipelines." + pipeline + ".retention.tombstones (" + tombstones
                + "); applying it could bring back a key whose delete was already forgotten";
    }

    /** The first rule the record breaks, or null. */
    public static String problem(OutboxRecord r) {
        if (r.problem() != null) {
            return r.problem();
        }
        if (r.key() == null || r.key().isBlank()) {
            return "business key is missing";
        }
        if (r.key().length() > 512) {
            return "business key is longer than 512 characters";
        }
        if (r.version() == null) {
            return "version is missing";
        }
        if (r.createdAt() == null) {
            return "created_at is missing";
        }
        if (r.delete()) {
            // A delete needs no payload; whatever it carries is ignored.
            return null;
        }
        if (r.payload() == null) {
            return "payload is missing for an upsert";
        }
        return jsonProblem(r.payload());
    }

    private static String jsonProblem(String payload) {
        try (JsonParser parser = JSON.createParser(payload)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return "payload is not a JSON object";
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                return "payload has trailing content after the JSON object";
            }
            return null;
        } catch (JsonProcessingException e) {
            // The parser's message quotes the offending token (payload data): keep only the position.
            return "payload is not valid JSON (at character " + e.getLocation().getCharOffset() + ")";
        } catch (IOException e) {
            return "payload could not be read";
        }
    }
}
