package tributary.capture;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import javax.sql.DataSource;

import tributary.config.Identifiers;
import tributary.config.TributaryConfig;

/**
 * The source database of a table-mode pipeline: what it must allow, the tables Tributary keeps beside the captured
 * one (its signal table and the reader's offsets), and the reader's settings. Slot (or reader name), signal table
 * and offsets table are named after the pipeline. {@link PostgresSource} reads logical decoding,
 * {@link MariaDbSource} the binary log.
 */
public abstract class TableSource {

    protected final String pipeline;
    protected final String key;
    protected final TributaryConfig.Source config;
    protected final TributaryConfig.Datasource datasource;
    protected final DataSource pool;
    protected final URI uri;
    protected final String table;
    protected final String slot;
    protected final String signalTable;
    protected final String offsetsTable;
    protected final String user;

    protected TableSource(String pipeline, TributaryConfig.Source config, TributaryConfig.Datasource datasource,
            DataSource pool, String defaultNamespace, String defaultUser) {
        this.pipeline = pipeline;
        this.key = "tributary.pipelines." + pipeline + ".source.";
        this.config = config;
        this.datasource = datasource;
        this.pool = pool;
        this.uri = URI.create(datasource.url().substring("jdbc:".length()));
        this.user = datasource.username().orElse(defaultUser);
        String t = Identifiers.validate(config.table());
        if ("tributary_outbox".equals(t)) {
            throw new IllegalArgumentException(key + "table: set it to the table to capture (schema.table) when "
                    + key + "mode=table");
        }
        String namespace = t.contains(".") ? t.substring(0, t.indexOf('.')) : defaultNamespace;
        if (namespace == null) {
            throw new IllegalArgumentException(key + "table: name the database of " + t + " (database.table), or put "
                    + "the database in the datasource URL");
        }
        this.table = namespace + "." + Identifiers.simpleName(t);
        String name = pipeline.replace('-', '_');
        this.slot = config.capture().slot().orElse("tributary_" + name);
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException(key + "capture.slot '" + slot
                    + "' must be lower-case letters, digits and '_', at most 63");
        }
        this.signalTable = namespace + "." + Identifiers.validate("tributary_signal_" + name);
        // Where the reader's offsets live: in the source database, beside the log position they point into, so
        // losing a pod or its volume loses neither.
        this.offsetsTable = Identifiers.validate("tributary_offsets_" + name);
        String snapshot = config.capture().snapshot();
        if (!snapshot.equals("initial") && !snapshot.equals("never")) {
            throw new IllegalArgumentException(key + "capture.snapshot must be initial or never, not '" + snapshot + "'");
        }
    }

    /** The source of a table-mode pipeline, by its datasource's URL. */
    public static TableSource of(String pipeline, TributaryConfig.Source config, TributaryConfig.Datasource datasource,
            DataSource pool) {
        String url = datasource.url();
        if (url.startsWith("jdbc:postgresql:")) {
            return new PostgresSource(pipeline, config, datasource, pool);
        }
        if (url.startsWith("jdbc:mariadb:")) {
            return new MariaDbSource(pipeline, config, datasource, pool);
        }
        throw new IllegalArgumentException("datasource " + config.datasource() + " must be a jdbc:postgresql: or "
                + "jdbc:mariadb: URL for table mode");
    }

    public String table() {
        return table;
    }

    /** The replication slot (PostgreSQL) or the reader's name (MariaDB). */
    public String slot() {
        return slot;
    }

    /** The schema (PostgreSQL) or database (MariaDB) of the captured table. */
    protected String namespace() {
        return table.substring(0, table.indexOf('.'));
    }

    public String signalTable() {
        return signalTable;
    }

    public String offsetsTable() {
        return offsetsTable;
    }

    /** The reader's logical name: its events and the signal table's rows are recognised by it. */
    public String topicPrefix() {
        return slot;
    }

    public String signalTopic() {
        return topicPrefix() + "." + signalTable;
    }

    public boolean initialSnapshot() {
        return "initial".equals(config.capture().snapshot());
    }

    /** Start-up checks; each failure says what to change. */
    public abstract void check() throws SQLException;

    /** The reader's settings. Secrets go only to the reader (and are filtered from every log line). */
    public abstract Properties properties();

    /** Log the source keeps for this reader, in bytes, or -1 when unknown. */
    public abstract long retainedBytes() throws SQLException;

    /** Rows in the table by the database's estimate: a snapshot's expected total. */
    public abstract long estimatedRows() throws SQLException;

    /** Whether the source already keeps the log for this reader (a request written now will be read). */
    public abstract boolean ready() throws SQLException;

    protected abstract String quote(String identifier);

    /** {@code INSERT} that skips a row whose key exists, in this database's words. */
    protected abstract String insertIgnoring(String table, String columns, String values);

    /** The signal table the reader reads snapshot requests from (and writes its snapshot watermarks to). */
    public void prepare() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + quote(signalTable)
                    + " (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))");
        }
    }

    /**
     * Asks the reader for a snapshot of the table (chunked, resumable, beside the stream). The request is a row in
     * the signal table, read from the log in order; {@code id} makes a request once only.
     *
     * @return whether this call added the request (false: a request with this id was made before)
     */
    public boolean requestSnapshot(String id) throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                insertIgnoring(quote(signalTable), "id, type, data", "?, 'execute-snapshot', ?"))) {
            ps.setString(1, id);
            ps.setString(2, "{\"data-collections\": [\"" + table.replace(".", "\\\\.") + "\"], \"type\": \"incremental\"}");
            return ps.executeUpdate() == 1;
        }
    }

    /** Settings every reader shares: names, snapshot by signal, offsets in the source, heartbeats. */
    protected Properties common(String connectorClass, String offsetsDdl) {
        Properties p = new Properties();
        p.setProperty("name", pipeline);
        p.setProperty("connector.class", connectorClass);
        p.setProperty("database.hostname", uri.getHost());
        p.setProperty("database.user", user);
        datasource.password().ifPresent(pw -> p.setProperty("database.password", pw));
        p.setProperty("topic.prefix", topicPrefix());
        p.setProperty("table.include.list", table.replace(".", "\\."));
        // The snapshot is an incremental one requested through the signal table: chunked, beside the stream, and
        // resumed from its last chunk after a restart. The signal table's rows (requests, watermarks) are skipped.
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("signal.enabled.channels", "source");
        p.setProperty("signal.data.collection", signalTable);
        p.setProperty("incremental.snapshot.chunk.size", String.valueOf(config.capture().chunkSize()));
        // The engine hands a batch over when it is full or after poll.interval.ms (500 ms by default, which a change
        // would wait at low rates): a short interval keeps latency low, and a batch holds a whole snapshot chunk.
        int batch = Math.max(2048, config.capture().chunkSize());
        p.setProperty("poll.interval.ms", "20");
        p.setProperty("max.batch.size", String.valueOf(batch));
        p.setProperty("max.queue.size", String.valueOf(4 * batch));
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("heartbeat.interval.ms", String.valueOf(config.capture().heartbeat().toMillis()));
        config.capture().heartbeatQuery().ifPresent(q -> p.setProperty("heartbeat.action.query", q));
        p.setProperty("offset.storage", "io.debezium.storage.jdbc.offset.JdbcOffsetBackingStore");
        p.setProperty("offset.storage.jdbc.connection.url", datasource.url());
        p.setProperty("offset.storage.jdbc.connection.user", user);
        // The store insists on a password; a server that authenticates otherwise ignores it.
        p.setProperty("offset.storage.jdbc.connection.password", datasource.password().orElse("-"));
        p.setProperty("offset.storage.jdbc.table.name", offsetsTable);
        // The store rewrites its table whole on each save, so every pipeline has its own; values grow past 1,255
        // characters while a snapshot runs, so they are text.
        p.setProperty("offset.storage.jdbc.table.ddl", offsetsDdl);
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("errors.max.retries", "-1");
        p.setProperty("notification.enabled.channels", SnapshotNotifications.NAME);
        return p;
    }

    /** Passes the operator's own connector settings last, so they win. */
    protected Properties withOverrides(Properties p) {
        config.capture().engine().forEach(p::setProperty);
        return p;
    }
}
