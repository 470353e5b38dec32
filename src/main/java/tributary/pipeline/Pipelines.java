package tributary.pipeline;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.Collection;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.TreeMap;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.jdbc.Datasources;
import tributary.outbox.OutboxStore;
import tributary.outbox.OutboxTable;
import tributary.sink.TargetSql;
import tributary.sink.TargetWriter;
import tributary.spool.Spool;

/** The configured pipelines, validated at start-up so a typo fails there rather than at the first record. */
@ApplicationScoped
public class Pipelines {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Map<String, Pipeline> pipelines = new TreeMap<>();
    private final String nodeId;
    private final TributaryConfig.Spool spoolConfig;

    public Pipelines(TributaryConfig config, Datasources datasources) {
        this.spoolConfig = config.spool();
        this.nodeId = config.nodeId().orElseGet(Pipelines::hostName);
        config.pipelines().forEach((name, p) -> pipelines.put(name, build(name, p, datasources)));
    }

    private Pipeline build(String name, TributaryConfig.Pipeline p, Datasources datasources) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("pipeline name '" + name
                    + "' must be lower-case letters, digits and '-' (it names routes, topics and consumer groups)");
        }
        if (p.batchSize() < 1 || p.batchSize() > 10_000) {
            throw new IllegalArgumentException("tributary.pipelines." + name + ".batch-size must be 1..10000");
        }
        if (p.maxAttempts() < 1) {
            throw new IllegalArgumentException("tributary.pipelines." + name + ".max-attempts must be at least 1");
        }
        OutboxTable table = OutboxTable.of(p.source().table(), p.source().layout(), p.source().columns());
        OutboxStore outbox = new OutboxStore(datasources.get(p.source().datasource()), table,
                p.source().aggregate().orElse(null), nodeId, p.source().deleteValues(), p.ackTimeout());
        boolean create = p.target().createTable();
        TargetWriter primary = new TargetWriter(datasources.get(p.target().datasource()), new TargetSql(p.target().table()),
                create);
        Optional<TargetWriter> standby = p.target().standby()
                .map(ds -> new TargetWriter(datasources.get(ds), new TargetSql(p.target().table()), create));
        PollPacer pacer = new PollPacer(p.poll().minInterval(), p.poll().maxInterval(), p.batchSize());
        return new Pipeline(name, p, outbox, primary, standby, pacer, spool(name, Pipeline.ENQUEUE),
                spool(name, Pipeline.PRIMARY), spool(name, Pipeline.STANDBY), new AtomicBoolean(true));
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

    /** Creates the outbox tables configured to be created (targets create theirs before their first write). */
    public void createTables() throws SQLException {
        for (Pipeline p : pipelines.values()) {
            if (p.config().source().createTable()) {
                p.outbox().createTable();
            }
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
}
