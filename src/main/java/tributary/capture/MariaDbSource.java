package tributary.capture;

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
 * A MariaDB (or MySQL-compatible) table read through the binary log in row format with Debezium's MariaDB
 * connector. Its schema history lives beside the offsets, in the source database.
 */
public final class MariaDbSource extends TableSource {

    private static final String OFFSETS_DDL = "CREATE TABLE %s (id varchar(36) NOT NULL, offset_key text, "
            + "offset_val text, record_insert_ts datetime(6) NOT NULL, record_insert_seq integer NOT NULL, "
            + "PRIMARY KEY (id))";

    MariaDbSource(String pipeline, TributaryConfig.Source config, TributaryConfig.Datasource datasource,
            DataSource pool) {
        super(pipeline, config, datasource, pool, database(datasource.url()), "root");
    }

    private static String database(String url) {
        String rest = url.substring("jdbc:mariadb://".length());
        int slash = rest.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String db = rest.substring(slash + 1);
        int q = db.indexOf('?');
        db = q < 0 ? db : db.substring(0, q);
        return db.isEmpty() ? null : db;
    }

    /** The binary log on, in row format with full row images; the table present with a primary key. */
    @Override
    public void check() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT @@log_bin, @@binlog_format, @@binlog_row_image")) {
                rs.next();
                if (!rs.getBoolean(1) || !"ROW".equalsIgnoreCase(rs.getString(2))
                        || !"FULL".equalsIgnoreCase(rs.getString(3))) {
                    throw new IllegalStateException(key + "mode=table needs the binary log in row format with full "
                            + "row images on the source database (datasource " + config.datasource() + " has log_bin="
                            + (rs.getBoolean(1) ? "ON" : "OFF") + ", binlog_format=" + rs.getString(2)
                            + ", binlog_row_image=" + rs.getString(3) + "): set log_bin, binlog_format=ROW and "
                            + "binlog_row_image=FULL in the server's configuration and restart it; the user needs "
                            + "REPLICATION SLAVE, REPLICATION CLIENT, SELECT and RELOAD");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*), sum(constraint_type = 'PRIMARY KEY') "
                    + "FROM information_schema.tables t LEFT JOIN information_schema.table_constraints k ON "
                    + "k.table_schema = t.table_schema AND k.table_name = t.table_name "
                    + "WHERE t.table_schema = ? AND t.table_name = ?")) {
                ps.setString(1, namespace());
                ps.setString(2, Identifiers.simpleName(table));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        throw new IllegalStateException(key + "table: table " + table + " does not exist in datasource "
                                + config.datasource());
                    }
                    if (rs.getLong(2) == 0) {
                        throw new IllegalStateException(key + "table: table " + table + " has no primary key; table "
                                + "mode keys records by it");
                    }
                }
            }
        }
    }

    /** The binary log keeps what the server's retention says, not what a reader needs; the first batch tells. */
    @Override
    public boolean ready() {
        return false;
    }

    @Override
    public long retainedBytes() {
        return -1;
    }

    @Override
    public long estimatedRows() throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT coalesce(table_rows, 0) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
            ps.setString(1, namespace());
            ps.setString(2, Identifiers.simpleName(table));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    @Override
    protected String quote(String identifier) {
        Identifiers.validate(identifier);
        return "`" + identifier.replace(".", "`.`") + "`";
    }

    @Override
    protected String insertIgnoring(String table, String columns, String values) {
        return "INSERT IGNORE INTO " + table + " (" + columns + ") VALUES (" + values + ")";
    }

    @Override
    public Properties properties() {
        Properties p = common("io.debezium.connector.mariadb.MariaDbConnector", OFFSETS_DDL);
        p.setProperty("database.port", String.valueOf(uri.getPort() < 0 ? 3306 : uri.getPort()));
        p.setProperty("database.include.list", namespace());
        // A replica id of its own on the server; pass source.capture.engine."database.server.id" to choose one.
        p.setProperty("database.server.id", String.valueOf(10_000 + Math.floorMod(slot.hashCode(), 1_000_000)));
        p.setProperty("include.schema.changes", "false");
        // The schema history is written to this same server: under the global read lock the reader would otherwise
        // take while it reads table definitions, that write would wait for the lock forever. Rows are read by the
        // incremental snapshot, which needs no lock; only a DDL statement in that moment would be missed.
        p.setProperty("snapshot.locking.mode", "none");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("schema.history.internal", "io.debezium.storage.jdbc.history.JdbcSchemaHistory");
        p.setProperty("schema.history.internal.jdbc.connection.url", datasource.url());
        p.setProperty("schema.history.internal.jdbc.connection.user", user);
        p.setProperty("schema.history.internal.jdbc.connection.password", datasource.password().orElse("-"));
        p.setProperty("schema.history.internal.jdbc.table.name", "tributary_history_" + pipeline.replace('-', '_'));
        p.setProperty("schema.history.internal.store.only.captured.tables.ddl", "true");
        return withOverrides(p);
    }
}
