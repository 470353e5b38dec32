package tributary.pipeline;

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
import tributary.crypto.ControlRecords;
import tributary.crypto.MissingKeys;
import tributary.crypto.RecordCipher;
import tributary.failover.Failures;
import tributary.outbox.Reasons;

/**
 * What the ack and dead-letter routes call: outbox status changes, one statement per consumer batch. Only
 * authenticated control records change a row; anything else is logged and left on its topic for operators.
 */
@ApplicationScoped
@Named(AckStage.NAME)
public class AckStage {

    public static final String NAME = "ackStage";
    private static final Logger LOG = Logger.getLogger(AckStage.class);
    /** Ids one outbox statement changes at most: ten full sync batches at the default batch size. */
    static final int MAX_IDS_PER_STATEMENT = 10_000;

    private final Pipelines pipelines;
    private final ControlRecords control;
    private final MissingKeys missingKeys;
    private final DeadRows deadRows;
    private final LocalDeadLetters localDeadLetters;

    public AckStage(Pipelines pipelines, ControlRecords control, MissingKeys missingKeys, DeadRows deadRows,
            LocalDeadLetters localDeadLetters) {
        this.localDeadLetters = localDeadLetters;
        this.pipelines = pipelines;
        this.control = control;
        this.missingKeys = missingKeys;
        this.deadRows = deadRows;
    }

    /**
     * Marks the ids of DONE acks done (or deletes them at retention 0) and those of PARKED acks parked: one statement
     * per run of acks of one kind, so a business database sees one commit per consumer batch, not one per sync batch
     * (at 1,000 rows/s one row per transaction about 120 acks a second arrive; the acks consumer waits up to 100 ms
     * for a batch, so about ten statements a second take them).
     */
    public int done(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) throws SQLException {
        Pipeline p = pipelines.get(pipeline);
        AckRuns runs = new AckRuns(MAX_IDS_PER_STATEMENT);
        for (Exchange e : batch) {
            ControlRecords.Ack ack;
            try {
                ack = control.openAck(pipeline, e.getMessage().getBody(byte[].class));
            } catch (RecordCipher.SealException forged) {
                LOG.warnf("pipeline %s: ack at offset %s ignored: %s", pipeline, e.getMessage().getHeader("kafka.OFFSET"),
                        forged.getMessage());
                continue;
            } catch (RecordCipher.UnknownKeyException ex) {
                throw missingKeys.report(pipeline, ex);
            }
            runs.add(ack);
        }
        int changed = 0;
        for (AckRuns.Run run : runs.runs()) {
            changed += run.kind() == ControlRecords.Kind.DONE ? p.outbox().markDone(run.ids(), p.deleteAtAck())
                    : p.outbox().markParked(run.ids());
            p.published().acked(run.ids());
        }
        return changed;
    }

    /** Marks the rows of authenticated dead letters DEAD with their reasons. */
    public void dead(@ExchangeProperty(Exchanges.PIPELINE) String pipeline,
            @ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) throws SQLException, java.io.IOException {
        Map<Long, String> reasons = new LinkedHashMap<>();
        for (Exchange e : batch) {
            Message m = e.getMessage();
            Long id = SyncStage.headerLong(m, Exchanges.ID_HEADER);
            String reason = SyncStage.headerText(m, Exchanges.REASON_HEADER);
            if (id == null) {
                // Kept on the dlq topic for operators; without an id there is no outbox row to mark.
                LOG.warnf("pipeline %s: dead letter without an outbox id at offset %s: %s", pipeline,
                        m.getHeader("kafka.OFFSET"), Reasons.clean(reason));
                continue;
            }
            try {
                if (!control.verifyDeadLetter(pipeline, id, reason, SyncStage.headerText(m, Exchanges.TAG_HEADER))) {
                    LOG.warnf("pipeline %s: dead letter at offset %s is not authentic; no outbox row changed", pipeline,
                            m.getHeader("kafka.OFFSET"));
                    continue;
                }
            } catch (RecordCipher.UnknownKeyException ex) {
                throw missingKeys.report(pipeline, ex);
            }
            reasons.put(id, reason);
        }
        try {
            deadRows.add(pipeline, pipelines.get(pipeline).outbox().markDead(reasons));
        } catch (SQLException e) {
            if (Failures.isTransient(e)) {
                throw e; // the source is away: the batch waits in Kafka
            }
            // The source refuses the statement for good: keep the letters on disk instead of retrying forever.
            localDeadLetters.keep(pipeline, letters(batch), e);
        }
    }

    private static List<Message> letters(List<Exchange> batch) {
        List<Message> letters = new java.util.ArrayList<>(batch.size());
        for (Exchange e : batch) {
            letters.add(e.getMessage());
        }
        return letters;
    }
}
