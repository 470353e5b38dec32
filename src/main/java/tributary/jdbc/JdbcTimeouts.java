package tributary.jdbc;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import tributary.config.TributaryConfig;

/**
 * The timeouts of one pool, validated against the key that set them, as PgJDBC connection properties and the SQL a
 * new connection runs. Without a socket timeout a server that stops answering, but keeps its connections open, holds
 * the caller forever and failover never happens.
 */
public record JdbcTimeouts(Duration connect, Duration login, Duration socket, Duration statement) {

    static final Duration MAX = Duration.ofHours(1);

    /** The timeouts of {@code tributary.datasources.<name>}. */
    public static JdbcTimeouts of(String name, TributaryConfig.Datasource ds) {
        String key = "tributary.datasources." + name + ".";
        Duration socket = seconds(key + "socket-timeout", ds.socketTimeout());
        Duration statement = ds.statementTimeout();
        if (statement.isNegative() || statement.compareTo(MAX) > 0) {
            throw new IllegalArgumentException(key + "statement-timeout must be 0 (none) to " + MAX + ", got " + statement);
        }
        if (!statement.isZero() && statement.compareTo(socket) >= 0) {
            throw new IllegalArgumentException(key + "statement-timeout (" + statement + ") must be shorter than "
                    + key + "socket-timeout (" + socket + "), so the server cancels a slow statement before the"
                    + " client drops the connection");
        }
        return new JdbcTimeouts(seconds(key + "connect-timeout", ds.connectTimeout()),
                seconds(key + "login-timeout", ds.loginTimeout()), socket, statement);
    }

    /** The health probes' timeouts: everything is {@code tributary.health.probe-timeout}; no statement timeout. */
    public static JdbcTimeouts probe(Duration probeTimeout) {
        Duration t = seconds("tributary.health.probe-timeout", probeTimeout);
        return new JdbcTimeouts(t, t, t, Duration.ZERO);
    }

    /** PgJDBC counts these timeouts in whole seconds; a fraction would be cut silently, so it is refused. */
    private static Duration seconds(String key, Duration value) {
        if (value.compareTo(Duration.ofSeconds(1)) < 0 || value.compareTo(MAX) > 0 || value.toMillis() % 1000 != 0) {
            throw new IllegalArgumentException(key + " must be whole seconds from 1s to " + MAX + ", got " + value);
        }
        return value;
    }

    /**
     * PgJDBC properties for every connection. Parameters written in the JDBC URL take precedence over these (PgJDBC's
     * rule), so an operator's URL stays authoritative.
     */
    public Map<String, String> jdbcProperties() {
        Map<String, String> p = new TreeMap<>();
        p.put("connectTimeout", String.valueOf(connect.toSeconds()));
        p.put("loginTimeout", String.valueOf(login.toSeconds()));
        p.put("socketTimeout", String.valueOf(socket.toSeconds()));
        // A server error's Detail and Where can quote row values (payload fragments); keep them out of messages
        // that reach logs, last_error and dead-letter reasons.
        p.put("logServerErrorDetail", "false");
        return p;
    }

    /** The MariaDB driver's properties for the same timeouts (milliseconds). */
    public Map<String, String> mariaDbProperties() {
        Map<String, String> p = new TreeMap<>();
        p.put("connectTimeout", String.valueOf(login.toMillis()));
        p.put("socketTimeout", String.valueOf(socket.toMillis()));
        return p;
    }

    /** MariaDB's statement timeout (seconds, fractions allowed), set on each new connection. */
    public Optional<String> mariaDbInitialSql() {
        return statement.isZero() ? Optional.empty()
                : Optional.of("SET SESSION max_statement_time = " + statement.toMillis() / 1000.0);
    }

    /**
     * Sets the statement timeout on each new connection. A {@code SET} rather than PgJDBC's {@code options} property,
     * so an {@code options} parameter in the URL is neither replaced nor silently shadowed. SET takes no bind
     * parameter; the value is a number of milliseconds formatted here, never text from configuration.
     */
    public Optional<String> initialSql() {
        return statement.isZero() ? Optional.empty()
                : Optional.of("SET statement_timeout = " + statement.toMillis());
    }
}
