package tributary.capture;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

import javax.sql.DataSource;

import tributary.config.Identifiers;
import tributary.config.TributaryConfig;

/**
 * The source database of a table-mode pipeline: what it must allow (logical decoding, a replication role, a primary
 * key), the tables Tributary keeps beside the captured one (its signal table and the reader's offsets), and the
 * reader's settings. Slot, publication and signal table are named after the pipeline.
 */
public final class TableSource {

    /**
     * The offsets table's shape: the store rewrites its table whole on each save, so every pipeline has its own,
     * and values grow past 1,255 characters while a snapshot runs, so they are text.
     */
    private static final String OFFSETS_DDL = "CREATE TABLE %s (id varchar(36) NOT NULL, offset_key text, "
            + "offset_val text, record_insert_ts timestamp NOT NULL, record_insert_seq integer NOT NULL, "
            + "PRIMARY KEY (id))";

    private final String pipeline;
    private final String key;
    private final TributaryConfig.Source config;
    private final TributaryConfig.Datasource datasource;
    private final DataSource pool;
    private final String table;
    private final String schema;
    private final String slot;
    private final String signalTable;
    private final String offsetsTable;

    public TableSource(String pipeline, TributaryConfig.Source config, TributaryConfig.Datasource datasource,
            DataSource pool) {
        this.pipeline = pipeline;
        this.key = "tributary.pipelines." + pipeline + ".source.";
        this.config = config;
        this.datasource = datasource;
        this.pool = pool;
        String t = Identifiers.validate(config.table());
        if ("tributary_outbox".equals(t)) {
            throw new IllegalArgumentException(key + "table: set it to the table to capture (schema.table) when "
                    + key + "mode=table");
        }
        this.schema = t.contains(".") ? t.substring(0, t.indexOf('.')) : "public";
        this.table = schema + "." + Identifiers.simpleName(t);
        this.slot = config.capture().slot().orElse("tributary_" + pipeline.replace('-', '_'));
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException(key + "capture.slot '" + slot
                    + "' must be lower-case letters, digits and '_' (PostgreSQL's rule for slot names), at most 63");
        }
        this.signalTable = schema + "." + Identifiers.validate("tributary_signal_" + pipeline.replace('-', '_'));
        // Where the reader's offsets live: in the source database, beside the slot, so losing a pod loses neither.
        this.offsetsTable = Identifiers.validate("tributary_offsets_" + pipeline.replace('-', '_'));
        String snapshot = config.capture().snapshot();
        if (!snapshot.equals("initial") && !snapshot.equals("never")) {
            throw new IllegalArgumentException(key + "capture.snapshot must be initial or never, not '" + snapshot + "'");
        }
    }

    public String table() {
        return table;
    }

    public String slot() {
        return slot;
    }

    public String signalTable() {
        return signalTable;
    }

    public String offsetsTable() {
        return offsetsTable;
    }

    /** The topic prefix the reader names its events with; the signal table's events are recognised by it. */
    public String topicPrefix() {
        return slot;
    }

    public String signalTopic() {
        return topicPrefix() + "." + signalTable;
    }

    public boolean initialSnapshot() {
        return "initial".equals(config.capture().snapshot());
    }

    /**
     * Start-up checks, each failure saying what to change: logical decoding on, a role that may replicate, the
     * table present with a primary key. A table without REPLICA IDENTITY FULL is fine unless it has TOASTed
     * columns an update leaves unchanged; such records are refused with that advice.
     */
    public void check() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SHOW wal_level")) {
                rs.next();
                String level = rs.getString(1);
                if (!"logical".equals(level)) {
                    throw new IllegalStateException(key + "mode=table needs logical decoding on the source database "
                            + "(datasource " + config.datasource() + " has wal_level=" + level + "): set wal_level = "
                            + "logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart "
                            + "PostgreSQL; max_replication_slots and max_wal_senders must leave one free per pipeline");
                }
            }
            try (ResultSet rs = s.executeQuery(
                    "SELECT rolsuper OR rolreplication, current_user FROM pg_roles WHERE rolname = current_user")) {
                if (rs.next() && !rs.getBoolean(1)) {
                    throw new IllegalStateException(key + "mode=table needs a role that may replicate: ALTER ROLE "
                            + rs.getString(2) + " WITH REPLICATION (and SELECT on the table, and ownership of it or a "
                            + "publication created by its owner)");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL, EXISTS (SELECT 1 "
                    + "FROM pg_index WHERE indrelid = to_regclass(?) AND indisprimary)")) {
                ps.setString(1, Identifiers.quote(table));
                ps.setString(2, Identifiers.quote(table));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new IllegalStateException(key + "table: table " + table + " does not exist in datasource "
                                + config.datasource());
                    }
                    if (!rs.getBoolean(2)) {
                        throw new IllegalStateException(key + "table: table " + table + " has no primary key; table mode "
                                + "keys records by it (add one, or capture a view of the data through an outbox)");
                    }
                }
            }
        }
    }

    /** The signal table the reader reads re-snapshot requests from (and writes its snapshot watermarks to). */
    public void prepare() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + Identifiers.quote(signalTable)
                    + " (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))");
        }
    }

    /**
     * Asks the reader for a snapshot of the table (chunked, resumable, beside the stream). The request is a row in
     * the signal table, read from the change log in order; {@code id} makes a request once only.
     *
     * @return whether this call added the request (false: a request with this id was made before)
     */
    public boolean requestSnapshot(String id) throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                + Identifiers.quote(signalTable) + " (id, type, data) VALUES (?, 'execute-snapshot', ?) "
                + "ON CONFLICT (id) DO NOTHING")) {
            ps.setString(1, id);
            ps.setString(2, "{\"data-collections\": [\"" + table + "\"], \"type\": \"incremental\"}");
            return ps.executeUpdate() == 1;
        }
    }

    /** Whether the slot exists: the reader created it, so changes from now on are kept for it. */
    public boolean slotExists() throws SQLException {
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** WAL the server keeps for the slot (bytes behind the current position), or -1 when there is no slot. */
    public long slotLagBytes() throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots "
                        + "WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    /** Rows in the table by the planner's estimate: a snapshot's expected total. */
    public long estimatedRows() throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, Identifiers.quote(table));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** The reader's settings. Secrets (the password) go only to the reader, never to a log line. */
    public Properties properties() {
        URI uri = URI.create(datasource.url().substring("jdbc:".length()));
        String db = uri.getPath() == null || uri.getPath().length() < 2 ? "postgres" : uri.getPath().substring(1);
        Properties p = new Properties();
        p.setProperty("name", pipeline);
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("database.hostname", uri.getHost());
        p.setProperty("database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
        p.setProperty("database.dbname", db);
        p.setProperty("database.user", datasource.username().orElse("postgres"));
        datasource.password().ifPresent(pw -> p.setProperty("database.password", pw));
        p.setProperty("topic.prefix", topicPrefix());
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", slot);
        p.setProperty("publication.autocreate.mode", "filtered");
        // The signal table joins the publication by itself; its rows (requests, watermarks) are skipped in capture.
        p.setProperty("table.include.list", table);
        // The snapshot is an incremental one requested through the signal table: chunked, beside the stream, and
        // resumed from its last chunk after a restart.
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("signal.enabled.channels", "source");
        p.setProperty("signal.data.collection", signalTable);
        p.setProperty("incremental.snapshot.chunk.size", String.valueOf(config.capture().chunkSize()));
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("time.precision.mode", "adaptive");
        long heartbeat = config.capture().heartbeat().toMillis();
        p.setProperty("heartbeat.interval.ms", String.valueOf(heartbeat));
        config.capture().heartbeatQuery().ifPresent(q -> p.setProperty("heartbeat.action.query", q));
        p.setProperty("offset.storage", "io.debezium.storage.jdbc.offset.JdbcOffsetBackingStore");
        p.setProperty("offset.storage.jdbc.connection.url", datasource.url());
        p.setProperty("offset.storage.jdbc.connection.user", datasource.username().orElse("postgres"));
        // The store insists on a password; a server that authenticates otherwise (trust, certificates) ignores it.
        p.setProperty("offset.storage.jdbc.connection.password", datasource.password().orElse("-"));
        p.setProperty("offset.storage.jdbc.table.name", offsetsTable);
        p.setProperty("offset.storage.jdbc.table.ddl", OFFSETS_DDL);
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("errors.max.retries", "-1");
        p.setProperty("notification.enabled.channels", SnapshotNotifications.NAME);
        config.capture().engine().forEach(p::setProperty);
        return p;
    }
}
