package tributary.outbox;

import tributary.config.Identifiers;

/**
 * Builds every statement Tributary runs against an outbox table. Identifiers are validated and quoted by
 * {@link OutboxTable}; values are always bind parameters. Statuses are constants of this class, never input.
 * Every statement that changes rows by id is scoped to the pipeline's aggregate and to the statuses it may change,
 * so an id from anywhere else cannot touch a row it does not own. {@code status_at} is when a row reached its
 * current status: retention and the ack timeout count from it.
 */
public final class OutboxSql {

    /** Statuses a row has before it is final. */
    static final String UNFINISHED = "('PENDING', 'PROCESSING', 'ENQUEUED', 'SPOOLED', 'PARKED', 'FAILED')";

    private final OutboxTable t;
    private final boolean filtered;

    /** @param filtered whether statements restrict rows to one aggregate (first bind parameter where used) */
    public OutboxSql(OutboxTable table, boolean filtered) {
        this.t = table;
        this.filtered = filtered;
    }

    /** Leading scope predicate; its bind comes first. */
    private String scope() {
        return filtered ? t.aggregate() + " = ? AND " : "";
    }

    /** Trailing scope predicate; its bind comes last. */
    private String andScope() {
        return filtered ? " AND " + t.aggregate() + " = ?" : "";
    }

    /**
     * Run before each claim, in its transaction (the setting is local to it). A backlog committed at once (an
     * outage's worth of rows) meets a table whose statistics still say it is nearly empty: the planner then reads
     * every due row through a bitmap and sorts them all on disk to take the first n, 13 times slower than walking the
     * claim index in id order (measured on 200,000 rows: 115 ms against 9 ms a claim). Without bitmap scans the
     * ordered index walk is the plan whatever the statistics say.
     */
    public static final String CLAIM_PLAN = "SELECT set_config('enable_bitmapscan', 'off', true)";

    /**
     * Claims up to n due rows, and no more payload bytes than a budget (the first row always, however large), in
     * one statement. Due: PENDING, or FAILED whose retry time has come. SKIP LOCKED lets replicas claim concurrently without waiting on or taking each other's rows; the lease
     * makes a claim exclusive even after this transaction commits. Rows locked but past the budget are left as
     * they were. Only rows with an id above a floor are claimed (0: all). Binds: claimedBy, [aggregate],
     * maxAttempts, floor, limit, maxBytes.
     */
    public String claim() {
        return claim(false);
    }

    /**
     * As {@link #claim()}; sliced, only the rows whose key hashes into one slice of several, so that concurrent
     * collect workers never hold versions of the same key. Binds: claimedBy, [aggregate], maxAttempts, floor,
     * [slices, slice], limit, maxBytes.
     */
    public String claim(boolean sliced) {
        return claimWhere(sliced ? " AND " + keyHash() + " % ? = ?" : "");
    }

    /**
     * As {@link #claim()}, only rows of the key slices this replica owns and has made ready, of one collect worker's
     * share of them. Ownership is read from the lock table as the statement runs: a replica whose ownership session
     * died (and whose slices another replica may hold by now) claims nothing from them, whatever it believed.
     * Binds: claimedBy, [aggregate], maxAttempts, floor, keySlices, ownerKey, ownerPid, ready slices (int[]),
     * keySlices, workers, worker, limit, maxBytes.
     */
    public String claimOwned() {
        return claimWhere(" AND " + keyHash() + " % ? = ANY (ARRAY(SELECT CAST(objid AS int) FROM pg_locks WHERE "
                + "locktype = 'advisory' AND CAST(classid AS bigint) = ? AND objsubid = 2 AND pid = ? AND granted "
                + "AND CAST(objid AS int) = ANY (?))) AND (" + keyHash() + " / ?) % ? = ?");
    }

    /** The key's slice hash, non-negative: the same function for claims, readiness and stale claims. */
    private String keyHash() {
        return "(hashtext(CAST(" + t.key() + " AS text)) & 2147483647)";
    }

    /**
     * Which of the given key slices still have rows in flight: claimed (PROCESSING, by anyone: a replica that held
     * the slice, or this replica's previous process) or in a replica's enqueue spool (SPOOLED). A slice becomes
     * ready to claim only when none are left, so no newer version of a key overtakes one still on its way. Reads
     * the partial indexes {@code _leased} and {@code _waiting}. Binds: keySlices, [aggregate], keySlices, slices
     * (int[]), keySlices, [aggregate], keySlices, slices (int[]).
     */
    public String slicesInFlight() {
        String select = "SELECT " + keyHash() + " % ? FROM " + t.table() + " WHERE " + scope();
        String mine = " AND " + keyHash() + " % ? = ANY (?)";
        return select + "status = 'PROCESSING'" + mine + " UNION " + select + "status = 'SPOOLED'" + mine;
    }

    /**
     * Rows this replica's previous process claimed (before this one started) in the given key slices go back to
     * PENDING without counting the attempt: that process is gone, so they need not wait for their lease. Binds:
     * [aggregate], claimedBy, startedAt, keySlices, slices (int[]).
     */
    public String releaseStale() {
        return "UPDATE " + t.table() + " SET status = 'PENDING', status_at = now(), claimed_by = NULL, "
                + "attempts = greatest(attempts - 1, 0) WHERE " + scope() + "status = 'PROCESSING' AND claimed_by = ? "
                + "AND claimed_at < ? AND " + keyHash() + " % ? = ANY (?)";
    }

    private String claimWhere(String slice) {
        String size = "coalesce(octet_length(CAST(" + t.payload() + " AS text)), 0)";
        return "UPDATE " + t.table() + " SET status = 'PROCESSING', claimed_by = ?, claimed_at = now(), status_at = now(), "
                + "attempts = attempts + 1 WHERE " + t.id() + " IN (SELECT " + t.id() + " FROM (SELECT " + t.id()
                + ", sum(" + size + ") OVER (ORDER BY " + t.id() + ") - " + size + " AS before FROM (SELECT " + t.id()
                + ", " + t.payload() + " FROM " + t.table() + " WHERE " + scope() + due() + " AND attempts < ? AND " + t.id()
                + " > ?" + slice + " ORDER BY "
                + t.id() + " LIMIT ? FOR UPDATE SKIP LOCKED) locked) budget WHERE before < ?)"
                + " RETURNING " + t.id() + ", CAST(" + t.key() + " AS text), " + t.versionOrId() + ", CAST("
                + t.operation() + " AS text), CAST(" + t.payload() + " AS text), " + t.createdAt() + ", attempts";
    }

    /**
     * Due rows: PENDING, and FAILED whose retry time has come. Exactly the statuses of the partial index
     * {@code _ready}: rows in flight (PROCESSING) are not in it, so a claim never steps over a backlog of claimed
     * rows waiting for their acks. Expired leases come back through {@link #reclaimExpired()}.
     */
    private static String due() {
        return "(status = 'PENDING' OR (status = 'FAILED' AND next_attempt_at <= now()))";
    }

    /**
     * Claimed rows whose lease expired (their replica died before the ack) become PENDING again; the attempt their
     * claim counted stays. Reads the partial index {@code _leased}. Binds: [aggregate], leaseSeconds.
     */
    public String reclaimExpired() {
        return "UPDATE " + t.table() + " SET status = 'PENDING', status_at = now(), claimed_by = NULL WHERE " + scope()
                + "status = 'PROCESSING' AND claimed_at < now() - make_interval(secs => ?)";
    }

    /**
     * Rows whose ack never came within the timeout, counted from when they reached their status (publication, or
     * parking in a primary spool), go back to PENDING and are published again; the version-guarded sink makes the
     * repetition harmless. The re-drive is not the record's fault, so it gives back the attempt its next claim
     * takes. Run by the maintenance route, not by claims. Binds: [aggregate], ackTimeoutSeconds.
     *
     * @param statuses which waiting statuses to re-drive: a constant list of this class's callers
     */
    String requeueUnacked(String statuses) {
        return "UPDATE " + t.table() + " SET status = 'PENDING', status_at = now(), claimed_by = NULL, "
                + "attempts = greatest(attempts - 1, 0) WHERE " + scope() + "status IN " + statuses
                + " AND status_at < now() - make_interval(secs => ?)";
    }

    /** Published rows (and spooled ones) waiting for their ack. */
    public String requeueUnpublished() {
        return requeueUnacked("('ENQUEUED', 'SPOOLED')");
    }

    /** Rows whose data only a primary spool held (a lost spool never acks them). */
    public String requeueParked() {
        return requeueUnacked("('PARKED')");
    }

    /** Marks claimed rows ENQUEUED unless an ack already made them DONE. Binds: ids[], claimedBy. */
    public String markEnqueued() {
        return "UPDATE " + t.table() + " SET status = 'ENQUEUED', status_at = now() WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Claimed rows whose records went to the enqueue spool. Binds: ids[], claimedBy. */
    public String markSpooled() {
        return "UPDATE " + t.table() + " SET status = 'SPOOLED', status_at = now() WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Spooled rows replayed to Kafka: published now. Binds: ids[], [aggregate]. */
    public String markReplayed() {
        return "UPDATE " + t.table() + " SET status = 'ENQUEUED', status_at = now() WHERE " + t.id()
                + " = ANY (?) AND status = 'SPOOLED'" + andScope();
    }

    /**
     * SPOOLED rows of this replica whose spool is drained yet were never replayed (their record was cut off or
     * quarantined): collect takes them again, without counting an attempt. Binds: claimedBy, [aggregate].
     */
    public String requeueSpooled() {
        return "UPDATE " + t.table() + " SET status = 'PENDING', status_at = now(), attempts = greatest(attempts - 1, 0) "
                + "WHERE status = 'SPOOLED' AND claimed_by = ?" + andScope();
    }

    /**
     * Claimed rows handed back untouched because Kafka and the spool could not take them: an infrastructure fault,
     * so the attempt the claim counted is given back. Binds: ids[], claimedBy.
     */
    public String release() {
        return "UPDATE " + t.table() + " SET status = 'PENDING', status_at = now(), claimed_by = NULL, "
                + "attempts = greatest(attempts - 1, 0) WHERE " + t.id() + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /**
     * The sink wrote the rows' records only to a primary spool: not DONE until the primary commits them. Binds:
     * ids[], [aggregate].
     */
    public String markParked() {
        return "UPDATE " + t.table() + " SET status = 'PARKED', status_at = now() WHERE " + t.id()
                + " = ANY (?) AND status IN ('PROCESSING', 'ENQUEUED', 'SPOOLED')" + andScope();
    }

    /** The primary committed the rows: one statement per ack batch. Binds: ids[], [aggregate]. */
    public String markDone() {
        return "UPDATE " + t.table() + " SET status = 'DONE', status_at = now(), last_error = NULL WHERE " + t.id()
                + " = ANY (?) AND status IN " + UNFINISHED + andScope();
    }

    /** Retention 0: a row the primary committed is deleted at ack instead of being marked. Binds: ids[], [aggregate]. */
    public String deleteAcked() {
        return "DELETE FROM " + t.table() + " WHERE " + t.id() + " = ANY (?) AND status IN " + UNFINISHED + andScope();
    }

    /**
     * A record that can never reach its target. A row already DONE keeps its status: the primary has its data.
     * Binds: reason, id, [aggregate].
     */
    public String markDead() {
        return "UPDATE " + t.table() + " SET status = 'DEAD', status_at = now(), last_error = ? WHERE " + t.id()
                + " = ? AND status IN " + UNFINISHED + andScope();
    }

    /**
     * Gives claimed rows back with a retry time that doubles per attempt. Binds: reason, backoffSeconds, ids[],
     * claimedBy.
     */
    public String markFailed() {
        return "UPDATE " + t.table() + " SET status = 'FAILED', status_at = now(), last_error = ?, next_attempt_at = now() + "
                + "make_interval(secs => least(600, ? * power(2, greatest(attempts - 1, 0)))) WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /**
     * Claimed rows a cleaning rule dropped: final, never published. Binds: reason, ids[], claimedBy.
     */
    public String markFiltered() {
        return "UPDATE " + t.table() + " SET status = 'FILTERED', status_at = now(), last_error = ? WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Retention 0: filtered rows go at once, like acked ones. Binds: ids[], claimedBy. */
    public String deleteFiltered() {
        return "DELETE FROM " + t.table() + " WHERE " + t.id() + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Rows that used up their attempts become DEAD. Binds: [aggregate], maxAttempts. */
    public String buryExhausted() {
        return "UPDATE " + t.table() + " SET status = 'DEAD', status_at = now(), last_error = coalesce(last_error, '') || "
                + "' [attempt limit reached]' WHERE " + scope() + due() + " AND attempts >= ?";
    }

    /**
     * Deletes one bounded batch of rows that reached a final status longer ago than the age. Short statements keep
     * locks on the business table brief; the outer statement repeats the predicate, so a row that left the status
     * meanwhile (an operator re-queueing a DEAD row) is not deleted. Binds: [aggregate], ageSeconds, limit,
     * [aggregate], ageSeconds.
     */
    public String purge(String status) {
        if (!"DONE".equals(status) && !"DEAD".equals(status) && !"FILTERED".equals(status)) {
            throw new IllegalArgumentException("only DONE, DEAD and FILTERED rows are ever purged, not " + status);
        }
        String predicate = scope() + "status = '" + status + "' AND status_at < now() - make_interval(secs => ?)";
        return "DELETE FROM " + t.table() + " WHERE " + t.id() + " IN (SELECT " + t.id() + " FROM " + t.table()
                + " WHERE " + predicate + " LIMIT ? FOR UPDATE SKIP LOCKED) AND " + predicate;
    }

    /**
     * Rows per status that is not final, and DEAD rows, each with its oldest row and latest status change. Every
     * branch reads one partial index ({@code _ready}, {@code _leased}, {@code _waiting}, {@code _purge}), never the
     * whole table: DONE and FILTERED rows, which may be millions, are not counted. Each branch reads at most a limit
     * of rows, so a reading costs the same after an outage of hours as after a minute's; a branch at the limit
     * counts the limit, and its oldest row is the oldest of the rows it read. Binds: [aggregate], limit, four times.
     */
    public String backlog() {
        String where = filtered ? " WHERE " + t.aggregate() + " = ? AND " : " WHERE ";
        String from = "SELECT status, count(*), min(created), max(status_at) FROM (SELECT status, " + t.createdAt()
                + " AS created, status_at FROM " + t.table() + where;
        String group = " LIMIT ?) counted GROUP BY status";
        return from + "status IN ('PENDING', 'FAILED')" + group + " UNION ALL "
                + from + "status = 'PROCESSING'" + group + " UNION ALL "
                + from + "status IN ('ENQUEUED', 'SPOOLED', 'PARKED')" + group + " UNION ALL "
                + from + "status = 'DEAD'" + group;
    }

    /** The table's unquoted simple name, from which index and history names derive. */
    String simpleName() {
        return Identifiers.simpleName(t.table().replace("\"", ""));
    }

    /** The quoted schema prefix of the table ({@code "sales".}), or nothing. */
    private String schemaPrefix() {
        int dot = t.table().indexOf("\".\"");
        return dot < 0 ? "" : t.table().substring(0, dot + 2);
    }

    /**
     * The outbox's versions. V1 is the table as this release's predecessors created it ({@code status_at} was its
     * last addition, applied in place to older tables); V2 replaces the index retention scans with one that covers
     * FILTERED rows too, built CONCURRENTLY so the business keeps writing meanwhile.
     */
    public java.util.List<tributary.migrate.TableMigrations.Step> migrations() {
        String name = simpleName();
        // The table, then status_at for a table from before it, then the indexes (one of them needs status_at).
        java.util.List<String> v1Statements = new java.util.ArrayList<>(java.util.List.of(createTable().split("; ")));
        v1Statements.add(1, "ALTER TABLE " + t.table()
                + " ADD COLUMN IF NOT EXISTS status_at timestamptz NOT NULL DEFAULT now()");
        var v1 = new tributary.migrate.TableMigrations.Step(1, "outbox table with status_at", v1Statements, true,
                c -> hasColumn(c, "status_at"));
        var v2 = new tributary.migrate.TableMigrations.Step(2, "purge index covering FILTERED rows",
                java.util.List.of("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "_purge\" ON " + t.table()
                        + " (status, status_at) WHERE status IN ('DONE', 'DEAD', 'FILTERED')",
                        "DROP INDEX CONCURRENTLY IF EXISTS " + schemaPrefix() + "\"" + name + "_finished\""),
                false, c -> hasIndex(c, name + "_purge"));
        var v3 = new tributary.migrate.TableMigrations.Step(3, "index of rows waiting for their ack",
                java.util.List.of("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "_waiting\" ON " + t.table()
                        + " (status, status_at) WHERE status IN ('ENQUEUED', 'SPOOLED', 'PARKED')"),
                false, c -> hasIndex(c, name + "_waiting"));
        var v4 = new tributary.migrate.TableMigrations.Step(4, "claim index without rows in flight",
                java.util.List.of("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "_ready\" ON " + t.table() + " ("
                        + t.aggregate() + ", " + t.id() + ") WHERE status IN ('PENDING', 'FAILED')",
                        "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + name + "_leased\" ON " + t.table()
                                + " (claimed_at) WHERE status = 'PROCESSING'",
                        "DROP INDEX CONCURRENTLY IF EXISTS " + schemaPrefix() + "\"" + name + "_due\""),
                false, c -> hasIndex(c, name + "_ready") && hasIndex(c, name + "_leased"));
        var v5 = new tributary.migrate.TableMigrations.Step(5,
                "room on each page for the row versions of claims and acks",
                java.util.List.of("ALTER TABLE " + t.table() + " SET (fillfactor = " + FILLFACTOR + ")"), true,
                this::hasFillfactor, false);
        return java.util.List.of(v1, v2, v3, v4, v5);
    }

    /**
     * How full inserts leave the outbox's pages. A claim and an ack each write a new version of the row; the
     * status they change is in the partial indexes, so these are never HOT updates, but with room on the page the
     * new version stays beside the old one instead of going to another page, which cuts the write-ahead log per
     * record by two fifths and the time by a seventh (200,000 rows claimed and marked DONE in batches of 1,000
     * after a checkpoint: 1,530 bytes a row and 11.7 s at 100, 897 bytes and 10.1 s at 50; 70 and 33 were
     * slower) and lets the page's dead versions be pruned in place.
     */
    static final int FILLFACTOR = 50;

    /** Whether the table has a fillfactor of its own (this one, or one its owner chose). */
    private boolean hasFillfactor(java.sql.Connection c) throws java.sql.SQLException {
        return catalogHas(c, "SELECT 1 FROM pg_class WHERE oid = to_regclass(?) "
                + "AND EXISTS (SELECT 1 FROM unnest(reloptions) o WHERE o LIKE 'fillfactor=%')");
    }

    private boolean hasColumn(java.sql.Connection c, String column) throws java.sql.SQLException {
        return catalogHas(c, "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? "
                + "AND NOT attisdropped", column);
    }

    private boolean hasIndex(java.sql.Connection c, String index) throws java.sql.SQLException {
        return catalogHas(c, "SELECT 1 FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid "
                + "WHERE i.indrelid = to_regclass(?) AND x.relname = ? AND i.indisvalid", index);
    }

    /** Whether a catalog query about this table (its first bind) finds a row; {@code name} is the second bind. */
    private boolean catalogHas(java.sql.Connection c, String query, String... name) throws java.sql.SQLException {
        try (var ps = c.prepareStatement(query)) {
            ps.setString(1, t.table());
            for (int i = 0; i < name.length; i++) {
                ps.setString(i + 2, name[i]);
            }
            try (var rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The Tributary layout, for demo and test set-ups; production systems own their DDL. */
    public String createTable() {
        String name = Identifiers.simpleName(t.table().replace("\"", ""));
        return "CREATE TABLE IF NOT EXISTS " + t.table() + " ("
                + t.id() + " bigserial PRIMARY KEY, "
                + t.aggregate() + " text NOT NULL, "
                + t.key() + " text NOT NULL, "
                + t.version().map(v -> v + " bigint NOT NULL, ").orElse("")
                + t.operation() + " text NOT NULL DEFAULT 'UPSERT', "
                + t.payload() + " jsonb, "
                + t.createdAt() + " timestamptz NOT NULL DEFAULT clock_timestamp(), "
                + "status text NOT NULL DEFAULT 'PENDING', status_at timestamptz NOT NULL DEFAULT now(), "
                + "attempts int NOT NULL DEFAULT 0, "
                + "next_attempt_at timestamptz, claimed_by text, claimed_at timestamptz, last_error text); "
                + "CREATE INDEX IF NOT EXISTS \"" + name + "_due\" ON " + t.table() + " (" + t.aggregate() + ", "
                + t.id() + ") WHERE status IN ('PENDING', 'FAILED', 'PROCESSING'); "
                + "CREATE INDEX IF NOT EXISTS \"" + name + "_finished\" ON " + t.table()
                + " (status, status_at) WHERE status IN ('DONE', 'DEAD')";
    }
}
