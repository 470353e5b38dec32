package tributary.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes outbox rows as a business system would (small transactions), and in the same statement records each row
 * in {@code test_expected}, so tests can compute the source's newest state per key after retention deleted rows.
 */
public final class OutboxWriter {

    /** One business change. {@code version} is ignored for layouts where the outbox id is the version. */
    public record Change(String key, long version, boolean delete, String payload) {
    }

    private final Postgres source;

    public OutboxWriter(Postgres source) {
        this.source = source;
        try (Connection c = Servers.connect(source); var st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS test_expected (business_key text NOT NULL, version bigint NOT NULL, "
                    + "deleted boolean NOT NULL, payload jsonb, outbox_id bigint)");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates {@code tributary_outbox} from the DDL Tributary ships, as a business system would. */
    public static void createOutbox(Postgres pg) throws SQLException {
        try (var in = OutboxWriter.class.getResourceAsStream("/db/tributary-outbox.postgresql.sql");
                Connection c = Servers.connect(pg); var st = c.createStatement()) {
            // Statement by statement, as psql runs the file: CREATE INDEX CONCURRENTLY refuses a transaction.
            String ddl = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                    .replaceAll("(?m)--.*$", "");
            for (String statement : ddl.split(";")) {
                if (!statement.isBlank()) {
                    st.execute(statement);
                }
            }
        } catch (java.io.IOException e) {
            throw new SQLException("cannot read the shipped outbox DDL", e);
        }
    }

    /** Tributary layout: {@code tributary_outbox} with an explicit version column. */
    public void tributary(String aggregate, List<Change> changes) throws SQLException {
        write("WITH ins AS (INSERT INTO tributary_outbox (aggregate, business_key, version, operation, payload) "
                + "SELECT ?, k, v, CASE WHEN d THEN 'DELETE' ELSE 'UPSERT' END, CAST(p AS jsonb) "
                + "FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS boolean[]), CAST(? AS text[])) AS u(k, v, d, p) "
                + "RETURNING id, business_key, version, operation, payload) "
                + "INSERT INTO test_expected SELECT business_key, version, operation = 'DELETE', payload, id FROM ins",
                aggregate, changes);
    }

    /** Debezium layout: {@code payments_outbox}, no version column, so the outbox id orders a key's changes. */
    public void debezium(String aggregate, List<Change> changes) throws SQLException {
        write("WITH ins AS (INSERT INTO payments_outbox (aggregatetype, aggregateid, type, payload) "
                + "SELECT ?, k, CASE WHEN d THEN 'DELETED' ELSE 'PaymentChanged' END, CAST(p AS jsonb) "
                + "FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS boolean[]), CAST(? AS text[])) "
                + "WITH ORDINALITY AS u(k, v, d, p, n) ORDER BY n RETURNING id, aggregateid, type, payload) "
                + "INSERT INTO test_expected SELECT aggregateid, id, type = 'DELETED', payload, id FROM ins",
                aggregate, changes);
    }

    private void write(String sql, String aggregate, List<Change> changes) throws SQLException {
        try (Connection c = Servers.connect(source); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, aggregate);
            ps.setArray(2, c.createArrayOf("text", changes.stream().map(Change::key).toArray()));
            ps.setArray(3, c.createArrayOf("bigint", changes.stream().map(Change::version).toArray()));
            ps.setArray(4, c.createArrayOf("boolean", changes.stream().map(Change::delete).toArray()));
            ps.setArray(5, c.createArrayOf("text", changes.stream().map(Change::payload).toArray()));
            ps.executeUpdate();
        }
    }

    /** Count of live keys and a checksum over key, version and payload of the source's newest version per key. */
    public String expected(String keyPrefix) throws SQLException {
        return query(source, "SELECT count(*) FILTER (WHERE NOT deleted) || '/' || count(*) || '/' || md5(string_agg("
                + "business_key || ':' || version || ':' || deleted || ':' || CASE WHEN deleted THEN '' ELSE payload::text END, "
                + "',' ORDER BY business_key)) FROM (SELECT DISTINCT ON (business_key) * FROM test_expected "
                + "WHERE business_key LIKE ? ORDER BY business_key, version DESC) s", keyPrefix + "%");
    }

    /** The same figures over a target table (tombstones included, as deleted). */
    public static String actual(Postgres target, String table, String keyPrefix) throws SQLException {
        return query(target, "SELECT count(*) FILTER (WHERE NOT deleted) || '/' || count(*) || '/' || md5(string_agg("
                + "business_key || ':' || version || ':' || deleted || ':' || CASE WHEN deleted THEN '' ELSE payload::text END, "
                + "',' ORDER BY business_key)) FROM " + table + " WHERE business_key LIKE ?", keyPrefix + "%");
    }

    public static String query(Postgres pg, String sql, Object... binds) throws SQLException {
        List<String> rows = rows(pg, sql, binds);
        return rows.isEmpty() ? null : rows.get(0);
    }

    public static List<String> rows(Postgres pg, String sql, Object... binds) throws SQLException {
        try (Connection c = Servers.connect(pg); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < binds.length; i++) {
                ps.setObject(i + 1, binds[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    public static int update(Postgres pg, String sql, Object... binds) throws SQLException {
        try (Connection c = Servers.connect(pg); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < binds.length; i++) {
                ps.setObject(i + 1, binds[i]);
            }
            return ps.executeUpdate();
        }
    }
}
