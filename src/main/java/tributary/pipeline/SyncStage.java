package tributary.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.crypto.ControlRecords;
import tributary.crypto.Envelope;
import tributary.crypto.MissingKeys;
import tributary.crypto.RecordCipher;
import tributary.failover.Sinks;
import tributary.outbox.Reasons;
import tributary.sink.SyncBatch;
import tributary.sink.SyncRecord;

/** What the sync route calls: open the consumer batch, write it, and build its acks and dead letters. */
@ApplicationScoped
@Named(SyncStage.NAME)
public class SyncStage {

    public static final String NAME = "syncStage";
    private static final Logger LOG = Logger.getLogger(SyncStage.class);

    private final Pipelines pipelines;
    private final RecordCipher cipher;
    private final ControlRecords control;
    private final MissingKeys missingKeys;
    private final CamelContext camel;
    private final Sinks sinks;

    public SyncStage(Pipelines pipelines, RecordCipher cipher, ControlRecords control, MissingKeys missingKeys,
            CamelContext camel, Sinks sinks) {
        this.pipelines = pipelines;
        this.cipher = cipher;
        this.control = control;
        this.missingKeys = missingKeys;
        this.camel = camel;
        this.sinks = sinks;
    }

    /**
     * Opens every record; one that fails authentication or parsing is poison, and the rest flows on. A record
     * sealed with a key this replica does not hold fails the whole batch instead: Kafka keeps it until the key is
     * configured.
     */
    public SyncBatch open(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) {
        Pipeline p = pipelines.get(pipeline);
        List<SyncRecord> records = new ArrayList<>(batch.size());
        List<SyncBatch.Poison> poison = new ArrayList<>(0);
        for (Exchange e : batch) {
            Message m = e.getMessage();
            String key = m.getHeader(KafkaConstants.KEY, String.class);
            byte[] value = m.getBody(byte[].class);
            Long id = headerLong(m, Exchanges.ID_HEADER);
            try {
                records.add(openOne(p, key, value, id));
            } catch (RecordCipher.SealException | IllegalArgumentException ex) {
                // The id is the clear header's: the letter goes to the dlq for operators but changes no row; the
                // ack timeout publishes the row again from the outbox.
                poison.add(new SyncBatch.Poison(id, key, value, ex.getMessage(), false));
            } catch (RecordCipher.UnknownKeyException ex) {
                throw missingKeys.report(pipeline, ex);
            }
        }
        if (!poison.isEmpty()) {
            LOG.warnf("%d poison record(s) in a batch of %d go to the dead-letter topic, e.g. outbox id %s: %s",
                    poison.size(), batch.size(), poison.get(0).outboxId(), poison.get(0).reason());
        }
        return new SyncBatch(records, poison);
    }

    /** Opens one sealed record of the pipeline; used by sync and by spool replay alike. */
    public SyncRecord openOne(Pipeline p, String key, byte[] value, Long id)
            throws RecordCipher.SealException, RecordCipher.UnknownKeyException {
        if (key == null) {
            throw new IllegalArgumentException("record has no key");
        }
        Envelope envelope = Envelope.fromBytes(cipher.open(p.scope(), key, value));
        if (id != null && id != envelope.outboxId()) {
            throw new IllegalArgumentException("id header does not match the sealed outbox id " + envelope.outboxId());
        }
        Instant limit = Instant.now().minus(p.config().retention().tombstones());
        if (envelope.createdAt() != null && envelope.createdAt().isBefore(limit)) {
            throw new IllegalArgumentException(Cleaner.tooLate(p.name(), p.config().retention().tombstones()));
        }
        return new SyncRecord(key, envelope, value);
    }

    /**
     * Writes the batch to the primary in one transaction, or fails over to the standby and the primary spool.
     * Returns what its acks say: DONE when the primary committed it, PARKED when only the primary spool holds it.
     */
    public ControlRecords.Kind write(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch) throws SQLException, IOException {
        return sinks.write(pipelines.get(pipeline), batch) ? ControlRecords.Kind.DONE : ControlRecords.Kind.PARKED;
    }

    /** Dead letters for the batch's poison records, still sealed, with the reason and its tag in headers. */
    public List<Message> deadLetters(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch) {
        List<Message> letters = new ArrayList<>(batch.poison().size());
        for (SyncBatch.Poison p : batch.poison()) {
            Message m = new DefaultMessage(camel);
            String reason = Reasons.clean(p.reason());
            m.setHeader(KafkaConstants.KEY, p.key() == null ? "" : Reasons.clean(p.key()));
            if (p.outboxId() != null) {
                m.setHeader(Exchanges.ID_HEADER, p.outboxId().toString());
                if (p.idAuthentic()) {
                    m.setHeader(Exchanges.TAG_HEADER, control.deadLetterTag(pipeline, p.outboxId(), reason));
                }
            }
            m.setHeader(Exchanges.REASON_HEADER, reason);
            m.setBody(p.value() == null ? new byte[0] : p.value());
            letters.add(m);
        }
        return letters;
    }

    /** The outbox ids written, as one authenticated ack message, or null when there are none. */
    public byte[] acks(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch,
            @ExchangeProperty(Exchanges.ACK_KIND) ControlRecords.Kind kind) {
        if (batch.records().isEmpty() || pipelines.get(pipeline).capturesTable()) {
            // A captured table has no outbox rows to mark: the consumer offset is all that records progress.
            return null;
        }
        long[] ids = batch.records().stream().mapToLong(r -> r.envelope().outboxId()).toArray();
        return control.ack(pipeline, kind == null ? ControlRecords.Kind.DONE : kind, ids);
    }

    static Long headerLong(Message m, String header) {
        String text = headerText(m, header);
        try {
            return text == null ? null : Long.valueOf(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static String headerText(Message m, String header) {
        Object raw = m.getHeader(header);
        return raw instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : raw == null ? null : raw.toString();
    }
}
