package tributary.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.hibernate.validator.constraints.time.DurationMin;

import io.smallrye.config.ConfigMapping;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/** Everything under {@code tributary.}: datasources, Kafka, keys and one block per pipeline. */
@ConfigMapping(prefix = "tributary")
public interface TributaryConfig {

    /** Identifies this replica in outbox claims; defaults to the host name. */
    Optional<String> nodeId();

    Kafka kafka();

    Crypto crypto();

    /** Named JDBC datasources, referenced by pipelines as sources and targets. */
    Map<String, Datasource> datasources();

    Map<String, Pipeline> pipelines();

    Spool spool();

    Health health();

    interface Spool {
        /** Root directory; each pipeline spools under {@code <dir>/<pipeline>/<target>}. One per replica. */
        @WithDefault("spool")
        String dir();

        /** Limit per spool; beyond it collect leaves rows FAILED in the source and sync holds data in Kafka. */
        @WithDefault("1073741824")
        @Min(1_048_576)
        long maxBytes();

        /** A segment is sealed for replay at this size ... */
        @WithDefault("16777216")
        @Min(4096)
        long segmentBytes();

        /** ... or at this age. */
        @WithDefault("1s")
        Duration segmentAge();

        /** How often replay looks for sealed segments. */
        @WithDefault("1s")
        @DurationMin(millis = 10)
        Duration replayInterval();
    }

    interface Health {
        /** How often primary, standby and Kafka are probed. */
        @WithDefault("1s")
        @DurationMin(millis = 10)
        Duration interval();

        /** Consecutive good probes before a failed target takes writes again. */
        @WithDefault("3")
        @Min(1)
        int recoverAfter();

        /**
         * Connect, login and socket timeout of the probes' own small pools (whole seconds): a target that stops
         * answering fails its probe after about this long, far sooner than a write would time out.
         */
        @WithDefault("2s")
        Duration probeTimeout();
    }

    interface Kafka {
        String brokers();

        /** Partitions of each pipeline topic when Tributary creates it. */
        @WithDefault("3")
        @Min(1)
        int partitions();

        @WithDefault("1")
        @Min(1)
        short replicationFactor();

        /** Producer linger: small, because collect already hands Kafka whole batches. */
        @WithDefault("1")
        @Min(0)
        int lingerMs();

        /**
         * Sync consumer threads per pipeline and replica. One is the default: measured here, three threads
         * on two cores more than halved throughput and raised latency (more, smaller transactions competing).
         */
        @WithDefault("1")
        @Min(1)
        @Max(64)
        int consumers();

        /** Longest wait of the sync consumer before it hands a partial batch to the sink. */
        @WithDefault("5")
        @Min(0)
        int batchWaitMs();

        /**
         * How long start-up waits for the pipeline topics to have leaders before collecting starts; a Kafka that is
         * down meanwhile delays start-up by at most this, then the spool takes over. {@code 0} skips the check.
         */
        @WithDefault("30s")
        Duration topicWait();

        /**
         * Kafka client settings passed to every producer, consumer and admin client, e.g. {@code security.protocol},
         * {@code sasl.jaas.config}, {@code ssl.truststore.location}. Values may be secrets: never logged.
         */
        Map<String, String> client();

        /**
         * Largest record collect hands Kafka or the spool (sealed payload, key and headers); a bigger row is DEAD at
         * once. Must stay below the producer's {@code max.request.size} (1048576 unless set under client.*).
         */
        @WithDefault("1000000")
        int maxRecordBytes();
    }

    interface Crypto {
        /** Id of the key new records are sealed with; must be one of {@link #keys()}. */
        String activeKey();

        /** Key id to base64 AES-256 key. Older keys stay here so their records still open. */
        Map<String, String> keys();
    }

    interface Datasource {
        String url();

        Optional<String> username();

        Optional<String> password();

        @WithDefault("8")
        @Min(1)
        int maxSize();

        /** Longest wait for the TCP connection to the server (PgJDBC {@code connectTimeout}, whole seconds). */
        @WithDefault("5s")
        Duration connectTimeout();

        /**
         * Longest wait for a new connection as a whole: TCP, TLS, authentication (PgJDBC {@code loginTimeout}). A
         * server that accepts TCP but never answers (frozen, or its packets dropped) is caught here, not by
         * {@link #connectTimeout()}, because the kernel completes the TCP handshake on its behalf.
         */
        @WithDefault("10s")
        Duration loginTimeout();

        /**
         * Longest wait for any answer of the server on an open connection (PgJDBC {@code socketTimeout}, whole
         * seconds): a primary that stops answering without closing the connection fails the batch after this and
         * the write path fails over. Must exceed the longest statement.
         */
        @WithDefault("30s")
        Duration socketTimeout();

        /**
         * Server-side {@code statement_timeout}, set on each new connection: the server cancels a slow statement
         * (a lock wait) cleanly before {@link #socketTimeout()} would drop the connection, so it must be shorter.
         * {@code 0} sets none (the server's, role's or URL's setting applies).
         */
        @WithDefault("20s")
        Duration statementTimeout();
    }

    interface Pipeline {
        Source source();

        Target target();

        /** Kafka topic; defaults to {@code tributary.<pipeline>}. */
        Optional<String> topic();

        /**
         * Collect workers per pipeline and replica. Each claims only the keys of its slice (a hash of the key), so
         * a key's records still reach the topic in order; while one worker's claim runs in the business database,
         * another's batch is sealed and published (measured on 2 cores, DONE rows kept: 1 worker 21,000 rows/s,
         * 2 workers 27,000, 3 workers 20,000).
         */
        @WithDefault("2")
        @Min(1)
        @Max(16)
        int collectWorkers();

        /**
         * Slices of the key space the replicas share out: each slice is claimed by one replica at a time (a
         * PostgreSQL advisory lock held by that replica's session), so all versions of a key reach the topic from
         * one replica, in order. Replicas beyond this number stand by. Must be the same on every replica. Each
         * claim holds its replica's slices in a shared lock until it commits, so the number stays small.
         */
        @WithDefault("16")
        @Min(1)
        @Max(256)
        int keySlices();

        /** Largest number of outbox rows one claim takes. */
        @WithDefault("1000")
        @Min(1)
        @Max(10_000)
        int batchSize();

        /**
         * Payload bytes one claim takes at most (the first row always) and one sync batch fetches from Kafka at
         * most, so memory stays bounded whatever the records weigh. Keep it below the producer's buffer.memory
         * (32 MiB unless set under tributary.kafka.client.*).
         */
        @WithDefault("8388608")
        int batchBytes();

        Poll poll();

        /**
         * How long a claim is held before another replica may reclaim the rows. Published rows stay claimed until
         * their ack; those still unacked after half the lease become ENQUEUED and wait for the ack timeout instead.
         */
        @WithDefault("30s")
        @DurationMin(seconds = 1)
        Duration lease();

        /** Claims after which a row that keeps failing becomes DEAD. */
        @WithDefault("20")
        @Min(1)
        int maxAttempts();

        /**
         * A row published (ENQUEUED, SPOOLED) or parked in a primary spool (PARKED) and not acked within this time,
         * counted from when it reached that status, is published again.
         */
        @WithDefault("30m")
        @DurationMin(seconds = 1)
        Duration ackTimeout();

        /** First retry delay of a FAILED row; doubles per attempt up to ten minutes. */
        @WithDefault("1s")
        @DurationMin(millis = 1)
        Duration retryBackoff();

        Retention retention();

        Backlog backlog();

        /** Cleaning rules, run in collect before the seal: Kafka, the spool and the target see only cleaned data. */
        Clean clean();
    }

    interface Clean {
        /** Rules in the order they run, as {@code clean.rules[0].type=...}; none by default. */
        Optional<List<Rule>> rules();
    }

    /**
     * One cleaning rule. Fields are JSONPath expressions naming one field ({@code $.customer.email}); conditions
     * are JSONPath filter expressions ({@code $[?(@.status == 'test')]}).
     */
    interface Rule {
        /**
         * filter, rename, drop, default, required, cast, mask, trim, lowercase, uppercase.
         */
        String type();

        /** The field the rule works on (every type but filter). */
        Optional<String> field();

        /** Several fields at once, for drop, required, trim, lowercase and uppercase. */
        Optional<List<String>> fields();

        /** filter: records matching this condition are dropped and acked FILTERED. */
        Optional<String> when();

        /** rename: the new name of the field (a plain name, kept in the field's object). */
        Optional<String> to();

        /** default: the value when the field is absent or null, as JSON ({@code 0}, {@code "EUR"}) or plain text. */
        Optional<String> value();

        /** cast: number, integer, boolean, date, timestamp or timestamptz. */
        Optional<String> as();

        /**
         * cast: the pattern the text follows: a {@code DateTimeFormatter} pattern for dates and times
         * ({@code dd.MM.yyyy}), a decimal separator for numbers ({@code ,}), the true and false words for booleans
         * ({@code yes/no}). Without it ISO formats, a dot, and true/false apply.
         */
        Optional<String> pattern();

        /** mask: redact or hash. */
        Optional<String> mode();

        /** mask redact: the replacement text. */
        @WithDefault("***")
        String text();

        /** mask redact: characters kept at the end of the value (e.g. 4 of a card number). */
        @WithDefault("0")
        @Min(0)
        int keepLast();

        /** mask hash: the HMAC-SHA-256 secret, at least 16 bytes; a secret, never logged. */
        Optional<String> secret();
    }

    interface Source {
        /** Name of a datasource under {@code tributary.datasources}. */
        String datasource();

        /**
         * {@code outbox}: the business system writes an outbox row with each change and collect claims them.
         * {@code table}: an existing table, captured from the database's change log (logical decoding); the
         * business system is not changed.
         */
        @WithDefault("outbox")
        String mode();

        /** The outbox table, or in table mode the business table to capture ({@code schema.table}). */
        @WithDefault("tributary_outbox")
        String table();

        /** Table mode: the change log reader's settings. */
        Capture capture();

        /** Column layout preset: {@code tributary} or {@code debezium}; single columns can still be overridden. */
        @WithDefault("tributary")
        Layout layout();

        /** Only rows whose aggregate column holds this value belong to the pipeline; all rows when absent. */
        Optional<String> aggregate();

        Columns columns();

        /** Values of the operation column that mean delete (case-insensitive). */
        @WithDefault("DELETE,DELETED")
        List<String> deleteValues();

        /**
         * Values of the operation column that mean upsert (case-insensitive). In the {@code tributary} layout a value
         * that is neither an upsert nor a delete value makes the row DEAD; defaults to {@code UPSERT} there, and to
         * "anything not a delete" in the {@code debezium} layout, whose column holds event types.
         */
        Optional<List<String>> upsertValues();

        /** Create the outbox table and its index when missing (demo and tests; production owns its DDL). */
        @WithDefault("false")
        boolean createTable();
    }

    /** Table mode: how the table's existing rows are copied and its change log is read. */
    interface Capture {
        /**
         * {@code initial}: copy the rows already in the table (a resumable snapshot in chunks, beside the change
         * stream), then stream; {@code never}: stream changes from the moment the pipeline first starts.
         */
        @WithDefault("initial")
        String snapshot();

        /** Rows one snapshot chunk reads. */
        @WithDefault("4096")
        @Min(1)
        int chunkSize();

        /**
         * How often the reader confirms its position to the source even when the table is idle, so the server can
         * recycle WAL; {@code 0} turns heartbeats off (not recommended: an idle table then retains WAL).
         */
        @WithDefault("10s")
        Duration heartbeat();

        /**
         * SQL the heartbeat runs on the source (for a database that is itself idle while others on its server
         * write WAL), e.g. an update of a one-row table; none by default.
         */
        Optional<String> heartbeatQuery();

        /**
         * Replication slot and publication name; defaults to {@code tributary_<pipeline>} with '-' as '_'. One
         * slot per pipeline: a removed pipeline's slot is dropped by the operator (see the README).
         */
        Optional<String> slot();

        /** Further Debezium connector properties, passed on as they are (advanced; they win over Tributary's). */
        Map<String, String> engine();
    }

    enum Layout {
        TRIBUTARY, DEBEZIUM
    }

    /** Column names; each falls back to the layout preset. */
    interface Columns {
        Optional<String> id();

        Optional<String> aggregate();

        @WithName("key")
        Optional<String> businessKey();

        /** Version column; {@code none} means the outbox id serves as the version. */
        Optional<String> version();

        Optional<String> operation();

        Optional<String> payload();

        Optional<String> createdAt();
    }

    interface Target {
        /** Name of the primary datasource. */
        String datasource();

        /** Name of the standby datasource, if any. */
        Optional<String> standby();

        String table();

        /** Create the target table and its live view when missing, and upgrade tables Tributary created. */
        @WithDefault("true")
        boolean createTable();

        /**
         * Typed columns, as {@code target.columns.<name>.type=numeric(12,2)}. Without any, the target keeps the whole
         * payload as jsonb.
         */
        Map<String, Column> columns();

        /** Keep the whole payload in a jsonb column too; defaults to true without columns, false with them. */
        Optional<Boolean> keepPayload();

        /** What happens to a payload field no column maps: ignore, add-column or fail (typed targets only). */
        @WithDefault("ignore")
        String evolution();
    }

    /** A typed target column. */
    interface Column {
        /**
         * SQL type: text, varchar(n), smallint, integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz,
         * uuid or jsonb.
         */
        String type();

        /** Where the value comes from: a JSONPath of one field ({@code $.customer.email}); {@code $.<name>} by default. */
        Optional<String> from();
    }

    interface Poll {
        /** Interval while rows keep arriving; a full batch re-polls at once. */
        @WithDefault("5ms")
        Duration minInterval();

        /** Interval the poller backs off to when the outbox is idle. */
        @WithDefault("250ms")
        Duration maxInterval();

        /**
         * How long after its last rows a worker keeps polling at the min-interval before backing off: rows of a
         * business system that writes a transaction every few hundred milliseconds then wait at most min-interval.
         * While rows trickle in, an outbox sees up to 1 / min-interval cheap claims a second per worker.
         */
        @WithDefault("1s")
        @DurationMin(millis = 0)
        Duration hold();
    }

    interface Retention {
        /** Age after which DONE rows are deleted; {@code 0} deletes them at ack. */
        @WithDefault("1h")
        Duration done();

        /** Age after which DEAD rows are deleted; long, so operators can inspect and retry. */
        @WithDefault("30d")
        Duration dead();

        /**
         * Age after which tombstones are purged; must exceed DEAD retention, since a DEAD row retried after its key's
         * tombstone is gone would bring the key back. Records older than this are refused as too late.
         */
        @WithDefault("35d")
        Duration tombstones();

        /** Rows deleted per statement, so no long lock is held on the business table. */
        @WithDefault("5000")
        @Min(1)
        int batchSize();

        @WithDefault("30s")
        @DurationMin(millis = 100)
        Duration interval();
    }

    interface Backlog {
        /** The pipeline reports itself degraded when its oldest unfinished row is older than this. */
        @WithDefault("60s")
        Duration degradedAfter();

        /** The pipeline reports itself degraded while a row became DEAD within this window. */
        @WithDefault("15m")
        Duration deadWindow();

        @WithDefault("5s")
        @DurationMin(millis = 100)
        Duration interval();

        /** How often the backlog line is logged. */
        @WithDefault("60s")
        Duration logInterval();

        /**
         * Rows a backlog reading reads at most per group of statuses: a group at the limit counts the limit, so a
         * reading after an outage of hours costs the business database what one after a minute's does.
         */
        @WithDefault("100000")
        @Min(1)
        int countLimit();
    }
}
