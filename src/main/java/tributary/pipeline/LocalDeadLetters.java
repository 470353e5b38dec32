package tributary.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.config.TributaryConfig;
import tributary.failover.Failures;
import tributary.spool.Spool;

/**
 * Where dead letters go when the dead-letter topic refuses them for good (a missing ACL, a topic limit), or the
 * source refuses to record them: an
 * append-only, fsynced file under {@code <spool.dir>/<pipeline>/dead-letters}, never replayed, for operators. The
 * rows of letters whose outbox id is authentic are marked DEAD directly, so nothing waits on a letter that will
 * never be consumed, and the batch behind them flows on.
 */
@ApplicationScoped
@Named(LocalDeadLetters.NAME)
public class LocalDeadLetters {

    public static final String NAME = "localDeadLetters";
    private static final Logger LOG = Logger.getLogger(LocalDeadLetters.class);

    private final Pipelines pipelines;
    private final DeadRows deadRows;
    private final TributaryConfig.Spool config;
    private final Map<String, Spool> files = new ConcurrentHashMap<>();

    public LocalDeadLetters(Pipelines pipelines, DeadRows deadRows, TributaryConfig config) {
        this.pipelines = pipelines;
        this.deadRows = deadRows;
        this.config = config.spool();
    }

    /** Whether a dead-letter publish failed for good: anything but Kafka being away. */
    public boolean refusedForGood(Exception e) {
        return !Failures.isTransient(e) || CollectStage.recordFault(e);
    }

    /** Keeps the letters on disk (fsynced) and marks the rows of authentic ones DEAD (best effort). */
    public void keep(@ExchangeProperty(Exchanges.PIPELINE) String pipeline, List<Message> letters, Exception cause)
            throws IOException {
        List<Spool.Entry> entries = new ArrayList<>(letters.size());
        Map<Long, String> authentic = new LinkedHashMap<>();
        for (Message m : letters) {
            String reason = SyncStage.headerText(m, Exchanges.REASON_HEADER);
            String id = SyncStage.headerText(m, Exchanges.ID_HEADER);
            byte[] text = String.valueOf(reason).getBytes(StandardCharsets.UTF_8);
            byte[] value = m.getBody(byte[].class) == null ? new byte[0] : m.getBody(byte[].class);
            Long outboxId = SyncStage.headerLong(m, Exchanges.ID_HEADER);
            entries.add(new Spool.Entry(String.valueOf(m.getHeader(KafkaConstants.KEY, String.class)),
                    outboxId == null ? -1 : outboxId, ByteBuffer.allocate(4 + text.length + value.length)
                            .putInt(text.length).put(text).put(value).array()));
            if (outboxId != null && m.getHeader(Exchanges.TAG_HEADER) != null) {
                authentic.put(outboxId, reason);
            }
        }
        spool(pipeline).append(entries);
        try {
            Pipeline p = pipelines.get(pipeline);
            deadRows.add(pipeline, p.capturesTable() ? letters.size() : p.outbox().markDead(authentic));
        } catch (SQLException e) {
            // Kept on disk either way; the ack timeout publishes rows that stay unfinished again.
            LOG.warnf("pipeline %s: rows of kept dead letters not marked DEAD: %s", pipeline, Failures.describe(e));
        }
        LOG.errorf("pipeline %s: %d dead letter(s) could not be published or recorded for good (%s); kept in %s",
                pipeline, letters.size(), Failures.describe(cause), spool(pipeline).dir());
    }

    /** The pipeline's local dead-letter file. */
    public Spool spool(String pipeline) throws IOException {
        try {
            return files.computeIfAbsent(pipeline, p -> {
                try {
                    return new Spool(Path.of(config.dir(), p, "dead-letters"), Long.MAX_VALUE, config.segmentBytes(),
                            Duration.ofDays(3650));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
