package tributary.pipeline;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import tributary.capture.TableSource;
import tributary.clean.CleanRules;
import tributary.config.TributaryConfig;
import tributary.outbox.KeySlices;
import tributary.outbox.OutboxStore;
import tributary.sink.TargetWriter;
import tributary.spool.Spool;

/**
 * One configured pipeline at run time: its settings, cleaning rules, source, target, topics and poll pacing. An
 * outbox pipeline has an {@code outbox} (and {@code table} is null); a table-mode pipeline has a {@code table} source
 * read from the change log (and {@code outbox} and {@code slices} are null): it has no rows to mark, so acks and
 * re-drives do not apply. {@code slices} are the outbox's key slices this replica owns.
 */
public record Pipeline(String name, TributaryConfig.Pipeline config, OutboxStore outbox, TargetWriter primary,
        Optional<TargetWriter> standby, List<PollPacer> pacers, Spool enqueueSpool, Spool primarySpool, Spool standbySpool,
        AtomicBoolean spooled, CleanRules clean, Published published, TableSource table, KeySlices slices) {

    /** The poll pacing of one collect worker. */
    public PollPacer pacer(int worker) {
        return pacers.get(worker);
    }

    /** Whether the pipeline captures an existing table from the change log instead of claiming outbox rows. */
    public boolean capturesTable() {
        return table != null;
    }

    /** Spool targets: records for Kafka, for the primary, for the standby. */
    public static final String ENQUEUE = "enqueue";
    public static final String PRIMARY = "primary";
    public static final String STANDBY = "standby";

    public Spool spool(String target) {
        return switch (target) {
            case ENQUEUE -> enqueueSpool;
            case PRIMARY -> primarySpool;
            case STANDBY -> standbySpool;
            default -> throw new IllegalArgumentException("no spool for target " + target);
        };
    }

    /** Health name of a spool's target. */
    public String healthName(String target) {
        return switch (target) {
            case ENQUEUE -> KAFKA;
            case PRIMARY -> primaryName();
            default -> standbyName().orElseThrow();
        };
    }

    public TargetWriter writer(String target) {
        return PRIMARY.equals(target) ? primary : standby.orElseThrow();
    }

    /** Health target names: the datasources, and Kafka. */
    public static final String KAFKA = "kafka";

    /** Whether this replica may have SPOOLED rows whose records never reach Kafka (set at start and on spooling). */
    public AtomicBoolean spooled() {
        return spooled;
    }

    public String primaryName() {
        return config.target().datasource();
    }

    public Optional<String> standbyName() {
        return config.target().standby();
    }

    public String topic() {
        return config.topic().orElse("tributary." + name);
    }

    /** The success queue: outbox ids the sink committed. */
    public String acksTopic() {
        return topic() + ".acks";
    }

    /** The failure queue: records that can never be written, with their reason. */
    public String dlqTopic() {
        return topic() + ".dlq";
    }

    /** What seals bind besides the record key: this pipeline and its target table. */
    public String scope() {
        return tributary.crypto.RecordCipher.scope(name, config.target().table());
    }

    public boolean deleteAtAck() {
        return config.retention().done().isZero();
    }
}
