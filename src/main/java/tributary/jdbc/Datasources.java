package tributary.jdbc;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import javax.sql.DataSource;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.exceptionsorter.MySQLExceptionSorter;
import io.agroal.api.exceptionsorter.PostgreSQLExceptionSorter;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;

/**
 * Connection pools for the datasources named under {@code tributary.datasources}, and the health probes' own small
 * pools. Built at run time from configuration, so a new source or target needs no rebuild.
 */
@ApplicationScoped
public class Datasources {

    private final Map<String, TributaryConfig.Datasource> configs;
    private final Map<String, AgroalDataSource> pools = new TreeMap<>();
    private final Map<String, AgroalDataSource> probes = new TreeMap<>();
    private final JdbcTimeouts probeTimeouts;

    public Datasources(TributaryConfig config) {
        this.configs = config.datasources();
        this.probeTimeouts = JdbcTimeouts.probe(config.health().probeTimeout());
        configs.forEach((name, ds) -> pools.put(name,
                open(name, ds, ds.maxSize(), JdbcTimeouts.of(name, ds), Duration.ofSeconds(10))));
    }

    private static AgroalDataSource open(String name, TributaryConfig.Datasource ds, int maxSize, JdbcTimeouts timeouts,
            Duration acquisitionTimeout) {
        boolean mariadb = ds.url().startsWith("jdbc:mariadb:");
        if (!ds.url().startsWith("jdbc:postgresql:") && !mariadb) {
            throw new IllegalArgumentException("tributary.datasources." + name
                    + ".url must be a jdbc:postgresql: or a jdbc:mariadb: URL (MariaDB or MySQL)");
        }
        int validationSeconds = (int) Math.min(2, timeouts.socket().toSeconds());
        AgroalDataSourceConfigurationSupplier supplier = new AgroalDataSourceConfigurationSupplier();
        supplier.connectionPoolConfiguration(pool -> pool
                .maxSize(maxSize)
                .minSize(0)
                .acquisitionTimeout(acquisitionTimeout)
                // A database that restarted or stopped answering leaves broken connections in the pool: a fatal
                // error (SQLState 08, a socket timeout among them) destroys the connection, and idle ones are
                // validated, so the next borrower gets a live one. (Agroal's defaultExceptionSorter treats nothing
                // as fatal: a timed-out connection would be handed out again, closed, until the next validation.)
                .exceptionSorter(mariadb ? new MySQLExceptionSorter() : new PostgreSQLExceptionSorter())
                .connectionValidator(AgroalConnectionPoolConfiguration.ConnectionValidator.defaultValidatorWithTimeout(validationSeconds))
                .validationTimeout(Duration.ofSeconds(30))
                .idleValidationTimeout(Duration.ofSeconds(5))
                .connectionFactoryConfiguration(factory -> {
                    // The login timeout goes to PgJDBC as a property: Agroal's own loginTimeout sets the JVM-wide
                    // DriverManager value, which the probe pools and the write pools would overwrite for each other.
                    factory.jdbcUrl(ds.url()).autoCommit(true);
                    (mariadb ? timeouts.mariaDbProperties() : timeouts.jdbcProperties()).forEach(factory::jdbcProperty);
                    (mariadb ? timeouts.mariaDbInitialSql() : timeouts.initialSql()).ifPresent(factory::initialSql);
                    ds.username().ifPresent(user -> factory.principal(new NamePrincipal(user)));
                    ds.password().ifPresent(password -> factory.credential(new SimplePassword(password)));
                    return factory;
                }));
        try {
            return AgroalDataSource.from(supplier);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create pool for datasource " + name, e);
        }
    }

    /** The settings of a configured datasource (the change log reader connects with them itself). */
    public TributaryConfig.Datasource settings(String name) {
        get(name);
        return configs.get(name);
    }

    /** Whether a configured datasource is PostgreSQL (outboxes must be; else MariaDB or MySQL). */
    public boolean isPostgres(String name) {
        return settings(name).url().startsWith("jdbc:postgresql:");
    }

    /** The pool of a configured datasource; a clear error names the missing one. */
    public DataSource get(String name) {
        AgroalDataSource pool = pools.get(name);
        if (pool == null) {
            throw new IllegalArgumentException("datasource '" + name + "' is not configured under tributary.datasources"
                    + " (configured: " + pools.keySet() + ")");
        }
        return pool;
    }

    /**
     * A one-connection pool of a configured datasource for its health probe (through camel-jdbc), every timeout the
     * probe timeout: a probe neither waits behind the write path's connections nor for the write path's long socket
     * timeout, so a target that stops answering is taken out after about the probe timeout.
     */
    public synchronized DataSource probe(String name) {
        get(name);
        return new CallerClosedDataSource(probes.computeIfAbsent(name,
                n -> open(n, configs.get(n), 1, probeTimeouts, probeTimeouts.socket())));
    }

    /**
     * A connection of its own to a configured PostgreSQL datasource, outside the pool, with the pool's timeouts:
     * for session state that must end when the connection is closed (the advisory locks of key-slice ownership).
     * The server probes it with TCP keepalives, so a replica that vanished without closing it loses its locks after
     * about 25 seconds rather than the operating system's two hours.
     */
    public java.sql.Connection session(String name) throws java.sql.SQLException {
        TributaryConfig.Datasource ds = settings(name);
        java.util.Properties props = new java.util.Properties();
        JdbcTimeouts timeouts = JdbcTimeouts.of(name, ds);
        props.putAll(timeouts.jdbcProperties());
        props.put("tcpKeepAlive", "true");
        ds.username().ifPresent(user -> props.put("user", user));
        ds.password().ifPresent(password -> props.put("password", password));
        java.sql.Connection c = new org.postgresql.Driver().connect(ds.url(), props);
        if (c == null) {
            throw new java.sql.SQLException("tributary.datasources." + name + ".url is not a PostgreSQL URL");
        }
        try (java.sql.Statement st = c.createStatement()) {
            java.util.Optional<String> initial = timeouts.initialSql();
            if (initial.isPresent()) {
                st.execute(initial.get());
            }
            st.execute("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
        } catch (java.sql.SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** At container shutdown, after the Camel context (and so every route using a pool) has stopped. */
    @PreDestroy
    synchronized void close() {
        probes.values().forEach(AgroalDataSource::close);
        pools.values().forEach(AgroalDataSource::close);
    }
}
