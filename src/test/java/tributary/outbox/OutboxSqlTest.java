package tributary.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;

import org.junit.jupiter.api.Test;

import tributary.config.TributaryConfig;

class OutboxSqlTest {

    private static TributaryConfig.Columns columns(String version) {
        return new TributaryConfig.Columns() {
            public Optional<String> id() { return Optional.empty(); }
            public Optional<String> aggregate() { return Optional.empty(); }
            public Optional<String> businessKey() { return Optional.empty(); }
            public Optional<String> version() { return Optional.ofNullable(version); }
            public Optional<String> operation() { return Optional.empty(); }
            public Optional<String> payload() { return Optional.empty(); }
            public Optional<String> createdAt() { return Optional.empty(); }
        };
    }

    private static long binds(String sql) {
        return sql.chars().filter(c -> c == '?').count();
    }

    @Test
    void claimTakesDueRowsInOneStatementWithSkipLocked() {
        OutboxTable t = OutboxTable.of("tributary_outbox", TributaryConfig.Layout.TRIBUTARY, columns(null));
        String claim = new OutboxSql(t, true).claim();
        assertTrue(claim.startsWith("UPDATE \"tributary_outbox\" SET status = 'PROCESSING'"), claim);
        assertTrue(claim.contains("FOR UPDATE SKIP LOCKED"), claim);
        assertTrue(claim.contains("attempts = attempts + 1"), claim);
        assertTrue(claim.contains("\"aggregate\" = ? AND"), claim);
        assertTrue(claim.contains("status = 'PENDING'") && claim.contains("status = 'FAILED' AND next_attempt_at <= now()")
                && !claim.contains("status = 'PROCESSING' AND"), "rows in flight are not stepped over: " + claim);
        assertTrue(new OutboxSql(t, true).reclaimExpired().contains("status = 'PROCESSING' AND claimed_at < now() - "
                + "make_interval(secs => ?)"), "expired leases come back through their own statement");
        assertTrue(claim.contains("ORDER BY \"id\" LIMIT ?"), claim);
        assertTrue(claim.contains("RETURNING \"id\", CAST(\"business_key\" AS text), \"version\""), claim);
        assertFalse(claim.contains("ENQUEUED"), "claims stay on the statuses of the partial index");
        // claimedBy, aggregate, maxAttempts, floor, limit, maxBytes
        assertEquals(6, binds(claim));
        assertEquals(5, binds(new OutboxSql(t, false).claim()));
        assertTrue(claim.contains("\"id\" > ? ORDER BY \"id\" LIMIT ?"), "a draining backlog is claimed from a floor: " + claim);
        assertTrue(claim.contains("WHERE before < ?"), "claims are bounded by bytes as well as rows");
        assertTrue(new OutboxSql(t, true).requeueUnpublished().contains("status IN ('ENQUEUED', 'SPOOLED') AND status_at < now()"),
                "the ack timeout counts from publication, not from the claim");
        assertTrue(new OutboxSql(t, true).requeueParked().contains("status IN ('PARKED')"));
        assertFalse(new OutboxSql(t, false).claim().contains("\"aggregate\" = ?"));
    }

    @Test
    void debeziumLayoutUsesTheOutboxIdAsVersion() {
        OutboxTable t = OutboxTable.of("outbox", TributaryConfig.Layout.DEBEZIUM, columns(null));
        assertTrue(t.version().isEmpty());
        assertEquals("\"id\"", t.versionOrId());
        String claim = new OutboxSql(t, true).claim();
        assertTrue(claim.contains("\"aggregatetype\" = ?"), claim);
        assertTrue(claim.contains("RETURNING \"id\", CAST(\"aggregateid\" AS text), \"id\", CAST(\"type\" AS text)"), claim);
        assertFalse(new OutboxSql(t, true).createTable().contains("\"version\""));
    }

    @Test
    void versionNoneOverridesThePreset() {
        OutboxTable t = OutboxTable.of("outbox", TributaryConfig.Layout.TRIBUTARY, columns("none"));
        assertTrue(t.version().isEmpty());
        assertEquals("\"seq\"", OutboxTable.of("outbox", TributaryConfig.Layout.DEBEZIUM, columns("seq")).versionOrId());
    }

    @Test
    void statusChangesUseArrayBindsAndGuards() {
        OutboxSql sql = new OutboxSql(OutboxTable.of("o", TributaryConfig.Layout.TRIBUTARY, columns(null)), false);
        assertTrue(sql.markDone().contains("\"id\" = ANY (?)"));
        assertTrue(sql.markEnqueued().contains("status = 'PROCESSING' AND claimed_by = ?"),
                "an ack that came first must not be overwritten by ENQUEUED");
        assertTrue(sql.purge("DONE").contains("LIMIT ?"), "purges are bounded");
        assertTrue(sql.purge("DONE").contains("status_at < now()"), "purged by when the row became final");
        assertThrows(IllegalArgumentException.class, () -> sql.purge("PENDING"));
        assertThrows(IllegalArgumentException.class, () -> sql.purge("DONE' OR 1=1 --"));
    }

    @Test
    void badIdentifiersFailBeforeAnySqlIsBuilt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OutboxTable.of("outbox; drop table x", TributaryConfig.Layout.TRIBUTARY, columns(null)));
        assertTrue(e.getMessage().contains("outbox; drop table x"));
        assertThrows(IllegalArgumentException.class,
                () -> OutboxTable.of("outbox", TributaryConfig.Layout.TRIBUTARY, columns("v\"x")));
    }
}
