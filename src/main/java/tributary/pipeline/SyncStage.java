package tributary.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
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
import tributary.crypto.Envelope;
import tributary.crypto.RecordCipher;
import tributary.failover.Sinks;
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
    private final CamelContext camel;
    private final Sinks sinks;

    public SyncStage(Pipelines pipelines, RecordCipher cipher, CamelContext camel, Sinks sinks) {
        this.pipelines = pipelines;
        this.cipher = cipher;
        this.camel = camel;
        this.sinks = sinks;
    }

    /** Opens every record; one that fails authentication or parsing is poison, and the rest flows on. */
    public SyncBatch open(@ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) {
        List<SyncRecord> records = new ArrayList<>(batch.size());
        List<SyncBatch.Poison> poison = new ArrayList<>(0);
        for (Exchange e : batch) {
            Message m = e.getMessage();
            String key = m.getHeader(KafkaConstants.KEY, String.class);
            byte[] value = m.getBody(byte[].class);
            Long id = headerLong(m, Exchanges.ID_HEADER);
            try {
                if (key == null) {
                    throw new IllegalArgumentException("record has no key");
                }
                Envelope envelope = Envelope.fromBytes(cipher.open(key, value));
                if (id != null && id != envelope.outboxId()) {
                    throw new IllegalArgumentException("id header " + id + " does not match sealed id " + envelope.outboxId());
                }
                records.add(new SyncRecord(key, envelope, value));
            } catch (RecordCipher.SealException | IllegalArgumentException ex) {
                poison.add(new SyncBatch.Poison(id, key, value, ex.getMessage()));
            }
        }
        if (!poison.isEmpty()) {
            LOG.warnf("%d poison record(s) in a batch of %d go to the dead-letter topic, e.g. outbox id %s: %s",
                    poison.size(), batch.size(), poison.get(0).outboxId(), poison.get(0).reason());
        }
        return new SyncBatch(records, poison);
    }

    /** Writes the batch to the primary in one transaction, or fails over to the standby and the primary spool. */
    public void write(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.OPENED) SyncBatch batch) throws SQLException, IOException {
        sinks.write(pipelines.get(pipeline), batch);
    }

    /** Dead letters for the batch's poison records, still sealed, with the reason in a header. */
    public List<Message> deadLetters(@ExchangeProperty(Exchanges.OPENED) SyncBatch batch) {
        List<Message> letters = new ArrayList<>(batch.poison().size());
        for (SyncBatch.Poison p : batch.poison()) {
            Message m = new DefaultMessage(camel);
            m.setHeader(KafkaConstants.KEY, p.key() == null ? "" : p.key());
            if (p.outboxId() != null) {
                m.setHeader(Exchanges.ID_HEADER, p.outboxId().toString());
            }
            m.setHeader(Exchanges.REASON_HEADER, p.reason());
            m.setBody(p.value() == null ? new byte[0] : p.value());
            letters.add(m);
        }
        return letters;
    }

    /** The outbox ids written, as one ack message (8 bytes per id), or null when there are none. */
    public byte[] acks(@ExchangeProperty(Exchanges.OPENED) SyncBatch batch) {
        if (batch.records().isEmpty()) {
            return null;
        }
        ByteBuffer ids = ByteBuffer.allocate(batch.records().size() * Long.BYTES);
        batch.records().forEach(r -> ids.putLong(r.envelope().outboxId()));
        return ids.array();
    }

    static Long headerLong(Message m, String header) {
        Object raw = m.getHeader(header);
        String text = raw instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : raw == null ? null : raw.toString();
        try {
            return text == null ? null : Long.valueOf(text);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
