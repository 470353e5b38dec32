package tributary.outbox;

import tributary.config.Identifiers;

/**
 * Builds every statement Tributary runs against an outbox table. Identifiers are validated and quoted by
 * {@link OutboxTable}; values are always bind parameters. Statuses are constants of this class, never input.
 */
public final class OutboxSql {

    private final OutboxTable t;
    private final boolean filtered;

    /** @param filtered whether statements restrict rows to one aggregate (first bind parameter where used) */
    public OutboxSql(OutboxTable table, boolean filtered) {
        this.t = table;
        this.filtered = filtered;
    }

    private String scope() {
        return filtered ? t.aggregate() + " = ? AND " : "";
    }

    /**
     * Claims up to n due rows in one statement. Due: PENDING, FAILED whose retry time has come, or PROCESSING
     * whose lease expired (its replica died). SKIP LOCKED lets replicas claim concurrently without waiting on or
     * taking each other's rows; the lease makes a claim exclusive even after this transaction commits.
     * Binds: claimedBy, [aggregate], leaseSeconds, maxAttempts, limit.
     */
    public String claim() {
        return "UPDATE " + t.table() + " SET status = 'PROCESSING', claimed_by = ?, claimed_at = now(), "
                + "attempts = attempts + 1 WHERE " + t.id() + " IN (SELECT " + t.id() + " FROM " + t.table()
                + " WHERE " + scope() + due() + " AND attempts < ? ORDER BY " + t.id() + " LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " RETURNING " + t.id() + ", CAST(" + t.key() + " AS text), " + t.versionOrId() + ", CAST("
                + t.operation() + " AS text), CAST(" + t.payload() + " AS text), " + t.createdAt() + ", attempts";
    }

    /**
     * Due rows. Binds: leaseSeconds. Only statuses of the partial index {@code _due}: a predicate the index does
     * not imply would make every claim scan the whole table.
     */
    private static String due() {
        return "(status = 'PENDING' OR (status = 'FAILED' AND next_attempt_at <= now()) "
                + "OR (status = 'PROCESSING' AND claimed_at < now() - make_interval(secs => ?)))";
    }

    /**
     * ENQUEUED and SPOOLED rows whose ack never came (a record lost with a Kafka disk, a replica that never came
     * back with its spool) go back to PENDING after the ack timeout and are published again; the version-guarded
     * sink makes the repetition harmless. Run by the maintenance route, not by claims. Binds: [aggregate],
     * ackTimeoutSeconds.
     */
    public String requeueUnacked() {
        return "UPDATE " + t.table() + " SET status = 'PENDING' WHERE " + scope()
                + "status IN ('ENQUEUED', 'SPOOLED') AND claimed_at < now() - make_interval(secs => ?)";
    }

    /** Marks claimed rows ENQUEUED unless an ack already made them DONE. Binds: ids[], claimedBy. */
    public String markEnqueued() {
        return "UPDATE " + t.table() + " SET status = 'ENQUEUED' WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Claimed rows whose records went to the enqueue spool. Binds: ids[], claimedBy. */
    public String markSpooled() {
        return "UPDATE " + t.table() + " SET status = 'SPOOLED' WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Spooled rows replayed to Kafka. Binds: ids[]. */
    public String markReplayed() {
        return "UPDATE " + t.table() + " SET status = 'ENQUEUED' WHERE " + t.id() + " = ANY (?) AND status = 'SPOOLED'";
    }

    /**
     * SPOOLED rows of this replica whose spool is drained yet were never replayed (their record was cut off or
     * quarantined): collect takes them again. Binds: claimedBy, [aggregate].
     */
    public String requeueSpooled() {
        return "UPDATE " + t.table() + " SET status = 'PENDING' WHERE status = 'SPOOLED' AND claimed_by = ?"
                + (filtered ? " AND " + t.aggregate() + " = ?" : "");
    }

    /** One statement per ack batch. Binds: ids[]. */
    public String markDone() {
        return "UPDATE " + t.table() + " SET status = 'DONE', last_error = NULL WHERE " + t.id()
                + " = ANY (?) AND status <> 'DONE'";
    }

    /** Retention 0: a synced row is deleted at ack instead of being marked. Binds: ids[]. */
    public String deleteAcked() {
        return "DELETE FROM " + t.table() + " WHERE " + t.id() + " = ANY (?)";
    }

    /** Binds: reason, id. */
    public String markDead() {
        // No status guard: a dead letter means the record did not reach its target, whatever the row says.
        return "UPDATE " + t.table() + " SET status = 'DEAD', last_error = ? WHERE " + t.id() + " = ?";
    }

    /**
     * Gives claimed rows back with a retry time that doubles per attempt. Binds: reason, backoffSeconds, ids[],
     * claimedBy.
     */
    public String markFailed() {
        return "UPDATE " + t.table() + " SET status = 'FAILED', last_error = ?, next_attempt_at = now() + "
                + "make_interval(secs => least(600, ? * power(2, greatest(attempts - 1, 0)))) WHERE " + t.id()
                + " = ANY (?) AND status = 'PROCESSING' AND claimed_by = ?";
    }

    /** Rows that used up their attempts become DEAD. Binds: [aggregate], leaseSeconds, maxAttempts. */
    public String buryExhausted() {
        return "UPDATE " + t.table() + " SET status = 'DEAD', last_error = coalesce(last_error, '') || "
                + "' [attempt limit reached]' WHERE " + scope() + due() + " AND attempts >= ?";
    }

    /**
     * Deletes one bounded batch of rows in a final status older than the age. Short statements keep locks on the
     * business table brief. Binds: [aggregate], ageSeconds, limit.
     */
    public String purge(String status) {
        if (!"DONE".equals(status) && !"DEAD".equals(status)) {
            throw new IllegalArgumentException("only DONE and DEAD rows are ever purged, not " + status);
        }
        return "DELETE FROM " + t.table() + " WHERE " + t.id() + " IN (SELECT " + t.id() + " FROM " + t.table()
                + " WHERE " + scope() + "status = '" + status + "' AND " + t.createdAt()
                + " < now() - make_interval(secs => ?) LIMIT ?)";
    }

    /** Rows per status and the oldest row of each. Binds: [aggregate]. */
    public String backlog() {
        return "SELECT status, count(*), min(" + t.createdAt() + ") FROM " + t.table()
                + (filtered ? " WHERE " + t.aggregate() + " = ?" : "") + " GROUP BY status";
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
                + "status text NOT NULL DEFAULT 'PENDING', attempts int NOT NULL DEFAULT 0, "
                + "next_attempt_at timestamptz, claimed_by text, claimed_at timestamptz, last_error text); "
                + "CREATE INDEX IF NOT EXISTS \"" + name + "_due\" ON " + t.table() + " (" + t.aggregate() + ", "
                + t.id() + ") WHERE status IN ('PENDING', 'FAILED', 'PROCESSING'); "
                + "CREATE INDEX IF NOT EXISTS \"" + name + "_final\" ON " + t.table() + " (status, "
                + t.createdAt() + ") WHERE status IN ('DONE', 'DEAD')";
    }
}
