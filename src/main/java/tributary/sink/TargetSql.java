package tributary.sink;

import tributary.config.Identifiers;

/**
 * Statements against an analytics target table. Deletes are tombstones: the row stays with {@code deleted = true}
 * and the delete's version, so a late, older upsert cannot resurrect it. The view {@code <table>_live} hides them.
 */
public final class TargetSql {

    private final String table;
    private final String simple;
    private final String view;

    public TargetSql(String table) {
        this.table = Identifiers.quote(table);
        this.simple = Identifiers.simpleName(table);
        this.view = Identifiers.quote(table + "_live");
        // Derived names too: PostgreSQL would silently truncate a name over 63 bytes.
        Identifiers.validate(simple + "_tombstones");
    }

    public String table() {
        return table;
    }

    public String view() {
        return view;
    }

    public String createTable() {
        int dot = table.indexOf("\".\"");
        String schema = dot < 0 ? "" : "CREATE SCHEMA IF NOT EXISTS " + table.substring(0, dot + 1) + "; ";
        return schema + "CREATE TABLE IF NOT EXISTS " + table + " ("
                + "business_key text PRIMARY KEY, version bigint NOT NULL, payload jsonb, "
                + "deleted boolean NOT NULL DEFAULT false, source_created_at timestamptz, "
                + "synced_at timestamptz NOT NULL DEFAULT clock_timestamp()); "
                + "CREATE INDEX IF NOT EXISTS \"" + simple + "_tombstones\" ON " + table + " (synced_at) WHERE deleted; "
                + "CREATE OR REPLACE VIEW " + view + " AS SELECT business_key, version, payload, source_created_at, "
                + "synced_at FROM " + table + " WHERE NOT deleted";
    }

    /**
     * Upserts a batch given as parallel arrays, writing only where the incoming version is newer. Keys must be
     * unique within the batch. Binds: keys text[], versions bigint[], payloads text[], deleted boolean[],
     * createdAtMicros bigint[].
     */
    public String upsert() {
        return "INSERT INTO " + table + " AS cur (business_key, version, payload, deleted, source_created_at, synced_at) "
                + "SELECT k, v, CAST(p AS jsonb), d, to_timestamp(c / 1000000.0), clock_timestamp() "
                + "FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS boolean[]), "
                + "CAST(? AS bigint[])) AS u(k, v, p, d, c) "
                + "ON CONFLICT (business_key) DO UPDATE SET version = EXCLUDED.version, payload = EXCLUDED.payload, "
                + "deleted = EXCLUDED.deleted, source_created_at = EXCLUDED.source_created_at, "
                + "synced_at = EXCLUDED.synced_at WHERE cur.version < EXCLUDED.version";
    }

    /**
     * Of a batch's keys and versions, those the target holds at the same version with another payload: the same
     * version written twice with different data, which the version guard cannot tell apart. Binds: keys text[],
     * versions bigint[], payloads text[].
     */
    public String sameVersionOtherPayload() {
        return "SELECT count(*) FROM unnest(CAST(? AS text[]), CAST(? AS bigint[]), CAST(? AS text[])) AS u(k, v, p) "
                + "JOIN " + table + " cur ON cur.business_key = u.k WHERE cur.version = u.v "
                + "AND cur.payload IS DISTINCT FROM CAST(u.p AS jsonb)";
    }

    /**
     * One bounded batch of expired tombstones. The outer statement repeats the predicate and locked rows are
     * skipped, so a key re-created while the purge runs keeps its new live row. Binds: ageSeconds, limit,
     * ageSeconds.
     */
    public String purgeTombstones() {
        String expired = "deleted AND synced_at < now() - make_interval(secs => ?)";
        return "DELETE FROM " + table + " WHERE business_key IN (SELECT business_key FROM " + table
                + " WHERE " + expired + " LIMIT ? FOR UPDATE SKIP LOCKED) AND " + expired;
    }
}
