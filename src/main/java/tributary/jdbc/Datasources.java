package tributary.jdbc;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import javax.sql.DataSource;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionPoolConfiguration;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;

/**
 * Connection pools for the datasources named under {@code tributary.datasources}. Built at run time from
 * configuration, so a new source or target needs no rebuild.
 */
@ApplicationScoped
public class Datasources {

    private final Map<String, AgroalDataSource> pools = new TreeMap<>();

    public Datasources(TributaryConfig config) {
        config.datasources().forEach((name, ds) -> pools.put(name, open(name, ds)));
    }

    private static AgroalDataSource open(String name, TributaryConfig.Datasource ds) {
        if (!ds.url().startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("tributary.datasources." + name
                    + ".url must be a jdbc:postgresql: URL (the only dialect supported so far)");
        }
        AgroalDataSourceConfigurationSupplier supplier = new AgroalDataSourceConfigurationSupplier();
        supplier.connectionPoolConfiguration(pool -> pool
                .maxSize(ds.maxSize())
                .minSize(0)
                .acquisitionTimeout(Duration.ofSeconds(10))
                // A database that restarted leaves broken connections in the pool: a fatal error (SQLState 08)
                // destroys the connection, and idle ones are validated, so the next borrower gets a live one.
                .exceptionSorter(AgroalConnectionPoolConfiguration.ExceptionSorter.defaultExceptionSorter())
                .connectionValidator(AgroalConnectionPoolConfiguration.ConnectionValidator.defaultValidatorWithTimeout(2))
                .validationTimeout(Duration.ofSeconds(30))
                .idleValidationTimeout(Duration.ofSeconds(5))
                .connectionFactoryConfiguration(factory -> {
                    factory.jdbcUrl(ds.url()).autoCommit(true).jdbcProperty("connectTimeout", "5");
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

    /** The pool of a configured datasource; a clear error names the missing one. */
    public DataSource get(String name) {
        AgroalDataSource pool = pools.get(name);
        if (pool == null) {
            throw new IllegalArgumentException("datasource '" + name + "' is not configured under tributary.datasources"
                    + " (configured: " + pools.keySet() + ")");
        }
        return pool;
    }

    /** At container shutdown, after the Camel context (and so every route using a pool) has stopped. */
    @PreDestroy
    void close() {
        pools.values().forEach(AgroalDataSource::close);
    }
}
