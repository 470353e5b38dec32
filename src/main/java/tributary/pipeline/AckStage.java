package tributary.pipeline;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

/** What the ack and dead-letter routes call: final outbox statuses, one statement per consumer batch. */
@ApplicationScoped
@Named(AckStage.NAME)
public class AckStage {

    public static final String NAME = "ackStage";
    private static final Logger LOG = Logger.getLogger(AckStage.class);

    private final Pipelines pipelines;

    public AckStage(Pipelines pipelines) {
        this.pipelines = pipelines;
    }

    /** Marks every id in the batch's ack messages DONE (or deletes them at retention 0). */
    public int done(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) throws SQLException {
        int total = 0;
        for (Exchange e : batch) {
            byte[] body = e.getMessage().getBody(byte[].class);
            total += body == null ? 0 : body.length / Long.BYTES;
        }
        long[] ids = new long[total];
        int i = 0;
        for (Exchange e : batch) {
            byte[] body = e.getMessage().getBody(byte[].class);
            if (body != null) {
                ByteBuffer buffer = ByteBuffer.wrap(body);
                while (buffer.remaining() >= Long.BYTES) {
                    ids[i++] = buffer.getLong();
                }
            }
        }
        Pipeline p = pipelines.get(pipeline);
        return ids.length == 0 ? 0 : p.outbox().markDone(ids, p.deleteAtAck());
    }

    /** Marks the dead letters' rows DEAD with their reasons. */
    public void dead(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) throws SQLException {
        Map<Long, String> reasons = new LinkedHashMap<>();
        for (Exchange e : batch) {
            Message m = e.getMessage();
            Long id = SyncStage.headerLong(m, Exchanges.ID_HEADER);
            Object reason = m.getHeader(Exchanges.REASON_HEADER);
            String text = reason instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(reason);
            if (id == null) {
                // Kept on the dlq topic for operators; without an id there is no outbox row to mark.
                LOG.warnf("pipeline %s: dead letter without an outbox id at offset %s: %s", pipeline,
                        m.getHeader("kafka.OFFSET"), text);
            } else {
                reasons.put(id, text);
            }
        }
        pipelines.get(pipeline).outbox().markDead(reasons);
    }
}
