package tributary.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.apache.camel.CamelContext;
import org.jboss.logging.Logger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import tributary.capture.TableSource;
import tributary.clean.CleanRules;
import tributary.config.Identifiers;
import tributary.config.TributaryConfig;
import tributary.jdbc.Datasources;
import tributary.outbox.KeySlices;
import tributary.outbox.OutboxStore;
import tributary.outbox.OutboxTable;
import tributary.sink.TargetSql;
import tributary.sink.TargetWriter;
import tributary.spool.Spool;
import tributary.spool.SpoolLock;

/** The configured pipelines, validated at start-up so a typo fails there rather than at the first record. */
@ApplicationScoped
public class Pipelines {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Logger LOG = Logger.getLogger(Pipelines.class);

    private final Map<String, Pipeline> pipelines = new TreeMap<>();
    private final String nodeId;
    private final TributaryConfig.Spool spoolConfig;
    private final SpoolLock spoolLock;

    /** @param camel resolves the jsonpath language of the cleaning rules' filter conditions */
    public Pipelines(TributaryConfig config, Datasources datasources, CamelContext camel) {
        this.spoolConfig = config.spool();
        this.nodeId = config.nodeId().orElseGet(Pipelines::hostName);
        try {
            // Before any spool is opened: opening recovers segments, which must never happen to a live spool.
            this.spoolLock = SpoolLock.acquire(Path.of(spoolConfig.dir()), nodeId);
        } catch (IOException e) {
            throw new UncheckedIOException("tributary.spool.dir " + spoolConfig.dir() + " is not usable", e);
        }
        try {
            config.pipelines().forEach((name, p) -> pipelines.put(name, build(name, p, datasources, camel)));
            checkTopicsAreOwnedOnce(pipelines.values());
        } catch (RuntimeException e) {
            releaseLock();
            throw e;
        }
    }

    /**
     * At shutdown, after Camel finished the batches in flight: open spool segments are sealed so that replay (this
     * replica's next start, or an operator moving the directory) takes them at once, then the lock is released.
     */
    @PreDestroy
    void close() {
        for (Pipeline p : pipelines.values()) {
            if (p.slices() != null) {
                p.slices().close();
            }
            for (String target : new String[] { Pipeline.ENQUEUE, Pipeline.PRIMARY, Pipeline.STANDBY }) {
                try {
                    p.spool(target).close();
                } catch (IOException e) {
                    LOG.warnf("pipeline %s: the %s spool could not be sealed at shutdown (%s); it is sealed at the "
                            + "next start", p.name(), target, e.getMessage());
                }
            }
        }
        releaseLock();
    }

    private void releaseLock() {
        try {
            spoolLock.close();
        } catch (IOException e) {
            LOG.warnf("spool lock not released cleanly: %s", e.getMessage());
        }
    }

    private Pipeline build(String name, TributaryConfig.Pipeline p, Datasources datasources, CamelContext camel) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("pipeline name '" + name
                    + "' must be lower-case letters, digits and '-' (it names routes, topics and consumer groups)");
        }
        if (p.batchSize() < 1 || p.batchSize() > 10_000) {
            throw new IllegalArgumentException("tributary.pipelines." + name + ".batch-size must be 1..10000");
        }
        if (p.batchBytes() < 65_536) {
            throw new IllegalArgumentException("tributary.pipelines." + name + ".batch-bytes must be at least 65536");
        }
        if (p.maxAttempts() < 1) {
            throw new IllegalArgumentException("tributary.pipelines." + name + ".max-attempts must be at least 1");
        }
        validateRetention(name, p);
        // Its errors already start with the rule's key.
        CleanRules clean = CleanRules.compile(name, p.clean().rules().orElse(java.util.List.of()), camel);
        String key = "tributary.pipelines." + name + ".";
        String mode = p.source().mode();
        if (!mode.equals("outbox") && !mode.equals("table")) {
            throw new IllegalArgumentException(key + "source.mode must be outbox or table, not '" + mode + "'");
        }
        if (mode.equals("outbox") && !datasources.isPostgres(p.source().datasource())) {
            throw new IllegalArgumentException(key + "source.datasource: an outbox lives in PostgreSQL; capture a "
                    + "MariaDB or MySQL table with " + key + "source.mode=table");
        }
        TableSource tableSource = mode.equals("table") ? named(key + "source", () -> TableSource.of(name, p.source(),
                datasources.settings(p.source().datasource()), datasources.get(p.source().datasource()))) : null;
        // The target's derived names (<table>_live, <table>_tombstones) must fit PostgreSQL's 63 bytes untruncated.
        TargetSql targetSql = named(key + "target.table", () -> new TargetSql(p.target().table()));
        OutboxStore outbox = tableSource != null ? null : outbox(name, p, key, datasources);
        boolean create = p.target().createTable();
        TargetWriter.Settings settings = named(key + "target.columns", () -> targetSettings(key + "target.", p.target()));
        // A type the target's database cannot hold fails here, naming the column's key.
        TargetWriter primary = writer(datasources, p.target().datasource(), targetSql, create, settings);
        Optional<TargetWriter> standby = p.target().standby()
                .map(ds -> writer(datasources, ds, targetSql, create, settings));
        List<PollPacer> pacers = new ArrayList<>();
        for (int w = 0; w < p.collectWorkers(); w++) {
            pacers.add(new PollPacer(p.poll().minInterval(), p.poll().maxInterval(), p.poll().hold(), p.batchSize()));
        }
        KeySlices slices = outbox == null ? null : new KeySlices(name, () -> datasources.session(p.source().datasource()),
                outbox, p.source().table() + "|" + p.source().aggregate().orElse(""), p.keySlices(), key + "key-slices");
        return new Pipeline(name, p, outbox, primary, standby, List.copyOf(pacers), spool(name, Pipeline.ENQUEUE),
                spool(name, Pipeline.PRIMARY), spool(name, Pipeline.STANDBY), new AtomicBoolean(true), clean,
                new Published(), tableSource, slices);
    }

    /** The writer for a target in PostgreSQL or in MariaDB/MySQL, as its datasource's URL says. */
    private static TargetWriter writer(Datasources datasources, String datasource, TargetSql table, boolean create,
            TargetWriter.Settings settings) {
        return datasources.isPostgres(datasource)
                ? new TargetWriter(datasources.get(datasource), table, create, settings)
                : new tributary.sink.MariaDbTargetWriter(datasources.get(datasource), table.name(), create, settings);
    }

    private OutboxStore outbox(String name, TributaryConfig.Pipeline p, String key, Datasources datasources) {
        OutboxTable table = named(key + "source.table or " + key + "source.columns.*",
                () -> OutboxTable.of(p.source().table(), p.source().layout(), p.source().columns()));
        named(key + "source.table", () -> Identifiers.validate(
                Identifiers.simpleName(p.source().table()) + "_tributary"));
        return new OutboxStore(datasources.get(p.source().datasource()), table,
                p.source().aggregate().orElse(null), nodeId, p.source().deleteValues(),
                p.source().upsertValues().orElse(p.source().layout() == TributaryConfig.Layout.TRIBUTARY
                        ? java.util.List.of("UPSERT") : java.util.List.of()), p.ackTimeout());
    }

    /**
     * The target's declaration: typed columns in name order, whether the payload is kept, the evolution policy.
     * Errors name the column's key.
     */
    static TargetWriter.Settings targetSettings(String key, TributaryConfig.Target t) {
        java.util.List<tributary.sink.TargetColumn> columns = new java.util.ArrayList<>();
        new TreeMap<>(t.columns()).forEach((name, c) -> {
            try {
                columns.add(tributary.sink.TargetColumn.of(name, c.type(), c.from().orElse(null)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("column " + name + " (" + key + "columns." + name + ".*): "
                        + e.getMessage(), e);
            }
        });
        boolean payload = t.keepPayload().orElse(columns.isEmpty());
        if (columns.isEmpty() && !payload) {
            throw new IllegalArgumentException(key + "keep-payload=false needs typed columns under " + key
                    + "columns.<name>.type");
        }
        TargetWriter.Evolution evolution = TargetWriter.Evolution.parse(key + "evolution", t.evolution());
        if (columns.isEmpty() && evolution != TargetWriter.Evolution.IGNORE) {
            throw new IllegalArgumentException(key + "evolution=" + t.evolution() + " needs typed columns under " + key
                    + "columns.<name>.type (a payload-only target keeps every field anyway)");
        }
        return new TargetWriter.Settings(key + "table", new tributary.sink.TargetShape(columns, payload), evolution);
    }

    /** Runs a step that validates configuration and puts the configuration key in front of its error. */
    private static <T> T named(String key, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
        }
    }

    /**
     * Each topic (data, acks, dlq) belongs to one pipeline: two pipelines on one topic would consume each other's
     * records and acks.
     */
    static void checkTopicsAreOwnedOnce(Collection<Pipeline> all) {
        Map<String, String> owners = new TreeMap<>();
        for (Pipeline p : all) {
            for (String topic : java.util.List.of(p.topic(), p.acksTopic(), p.dlqTopic())) {
                String other = owners.putIfAbsent(topic, p.name());
                if (other != null) {
                    throw new IllegalArgumentException("tributary.pipelines." + p.name() + ".topic: topic '" + topic
                            + "' is already used by pipeline '" + other + "'; every pipeline needs topics of its own");
                }
            }
        }
    }

    /**
     * Retention settings must not contradict each other: a DEAD row retried, or a record held in a spool or behind
     * an ack timeout, after its key's tombstone was purged would bring a deleted key back.
     */
    static void validateRetention(String name, TributaryConfig.Pipeline p) {
        String key = "tributary.pipelines." + name + ".retention.";
        var r = p.retention();
        if (r.tombstones().compareTo(r.dead()) <= 0) {
            throw new IllegalArgumentException(key + "tombstones (" + r.tombstones() + ") must be longer than " + key
                    + "dead (" + r.dead() + "): a DEAD row retried after its key's tombstone was purged would bring "
                    + "the key back");
        }
        if (r.tombstones().compareTo(p.ackTimeout()) <= 0) {
            throw new IllegalArgumentException(key + "tombstones (" + r.tombstones() + ") must be longer than "
                    + "tributary.pipelines." + name + ".ack-timeout (" + p.ackTimeout() + ")");
        }
        if (r.done().isNegative() || r.dead().isNegative() || r.dead().isZero()) {
            throw new IllegalArgumentException(key + "done must be 0 or more and " + key + "dead more than 0");
        }
    }

    private Spool spool(String pipeline, String target) {
        TributaryConfig.Spool s = spoolConfig;
        try {
            return new Spool(Path.of(s.dir(), pipeline, target), s.maxBytes(), s.segmentBytes(), s.segmentAge());
        } catch (IOException e) {
            // An unusable spool at start-up is not fatal: appends fail, and rows stay in the source or in Kafka.
            throw new UncheckedIOException("spool directory " + Path.of(s.dir(), pipeline, target) + " is not usable", e);
        }
    }

    /**
     * Brings every outbox and target table to the version and declaration this release needs (create-table on) or
     * checks that it is there (off). A target that is down now is prepared before its first write instead.
     */
    public void createTables() throws SQLException {
        for (Pipeline p : pipelines.values()) {
            if (p.capturesTable()) {
                // Fails start-up with what to change (wal_level, the role, the table's key).
                p.table().check();
                p.table().prepare();
            } else if (p.config().source().createTable()) {
                p.outbox().createTable();
            } else {
                p.outbox().checkColumns("tributary.pipelines." + p.name() + ".source.table");
            }
        }
        for (Pipeline p : pipelines.values()) {
            prepareTarget(p.name(), p.primary());
            if (p.standby().isPresent()) {
                prepareTarget(p.name(), p.standby().get());
            }
        }
    }

    private static void prepareTarget(String pipeline, TargetWriter writer) {
        try {
            writer.prepare();
        } catch (SQLException e) {
            LOG.warnf("pipeline %s: target table not prepared now (%s); it is before its first write", pipeline,
                    tributary.failover.Failures.describe(e));
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "tributary-" + ProcessHandle.current().pid();
        }
    }

    public String nodeId() {
        return nodeId;
    }

    public Pipeline get(String name) {
        Pipeline p = pipelines.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no pipeline named '" + name + "'");
        }
        return p;
    }

    public Collection<Pipeline> all() {
        return pipelines.values();
    }

    /** The pipelines that claim outbox rows (table-mode pipelines have no outbox). */
    public java.util.List<Pipeline> outboxes() {
        return pipelines.values().stream().filter(p -> !p.capturesTable()).toList();
    }

    /** The pipelines that capture an existing table from the change log. */
    public java.util.List<Pipeline> tables() {
        return pipelines.values().stream().filter(Pipeline::capturesTable).toList();
    }
}
