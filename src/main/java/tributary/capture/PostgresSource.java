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

/** A PostgreSQL table read through logical decoding ({@code pgoutput}), one slot and publication per pipeline. */
public final class PostgresSource extends TableSource {

    private static final String OFFSETS_DDL = "CREATE TABLE %s (id varchar(36) NOT NULL, offset_key text, "
            + "offset_val text, record_insert_ts timestamp NOT NULL, record_insert_seq integer NOT NULL, "
            + "PRIMARY KEY (id))";

    PostgresSource(String pipeline, TributaryConfig.Source config, TributaryConfig.Datasource datasource,
            DataSource pool) {
        super(pipeline, config, datasource, pool, "public", "postgres");
    }

    /**
     * Logical decoding on, a role that may replicate, the table present with a primary key. A table without REPLICA
     * IDENTITY FULL is fine unless an update leaves a TOASTed column unchanged; such records are refused with that
     * advice.
     */
    @Override
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
                            + rs.getString(2) + " WITH REPLICATION (it also needs SELECT on the table and may create "
                            + "the publication: the table's owner, or a publication of that name made by the owner)");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL, EXISTS (SELECT 1 "
                    + "FROM pg_index WHERE indrelid = to_regclass(?) AND indisprimary)")) {
                ps.setString(1, quote(table));
                ps.setString(2, quote(table));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        throw new IllegalStateException(key + "table: table " + table + " does not exist in datasource "
                                + config.datasource());
                    }
                    if (!rs.getBoolean(2)) {
                        throw new IllegalStateException(key + "table: table " + table + " has no primary key; table "
                                + "mode keys records by it");
                    }
                }
            }
        }
    }

    @Override
    public boolean ready() throws SQLException {
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** WAL the server keeps for the slot (bytes behind the current position), or -1 when there is no slot. */
    @Override
    public long retainedBytes() throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots "
                        + "WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    @Override
    public long estimatedRows() throws SQLException {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(?)")) {
            ps.setString(1, quote(table));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    @Override
    protected String quote(String identifier) {
        return Identifiers.quote(identifier);
    }

    @Override
    protected String insertIgnoring(String table, String columns, String values) {
        return "INSERT INTO " + table + " (" + columns + ") VALUES (" + values + ") ON CONFLICT (id) DO NOTHING";
    }

    @Override
    public Properties properties() {
        Properties p = common("io.debezium.connector.postgresql.PostgresConnector", OFFSETS_DDL);
        String db = uri.getPath() == null || uri.getPath().length() < 2 ? "postgres" : uri.getPath().substring(1);
        p.setProperty("database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
        p.setProperty("database.dbname", db);
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", slot);
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("time.precision.mode", "adaptive");
        return withOverrides(p);
    }
}
