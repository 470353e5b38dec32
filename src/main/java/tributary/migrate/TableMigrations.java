package tributary.migrate;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.ClassProvider;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.ResourceProvider;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.flywaydb.core.api.resource.LoadableResource;
import org.jboss.logging.Logger;

/**
 * The versioned migrations of one table Tributary owns (an outbox, a target), recorded by Flyway in a history table
 * of its own next to it ({@code <table>_tributary}). Migrations are built in code with the table's configured
 * names, so nothing is scanned from the class path. With {@code create-table} on, start-up brings the table to the
 * newest version in place (Flyway's lock keeps replicas starting together apart); with it off, start-up only
 * checks, and fails naming every migration the table lacks.
 */
public final class TableMigrations {

    private static final Logger LOG = Logger.getLogger(TableMigrations.class);

    /** Tells whether a migration's change is already in a table that has no version record yet. */
    @FunctionalInterface
    public interface Present {
        boolean in(Connection c) throws SQLException;
    }

    /**
     * One migration: its version, what it does, its statements, whether they may run in one transaction (an index
     * built CONCURRENTLY may not), how to see its change in a table created before versions were recorded (or
     * changed by hand), and whether Tributary needs it to run: a table that lacks a tuning step still starts, with
     * a warning naming the statements that apply it.
     */
    public record Step(int version, String description, List<String> statements, boolean transactional,
            Present present, boolean required) {

        public Step(int version, String description, List<String> statements, boolean transactional,
                Present present) {
            this(version, description, statements, transactional, present, true);
        }

        public String label() {
            return "V" + version + " (" + description + ")";
        }
    }

    private final DataSource ds;
    private final String schema;
    private final String table;
    private final String history;
    private final List<Step> steps;

    /**
     * @param schema the table's schema, or null for the connection's current schema
     * @param table the table's quoted name, for messages
     * @param history the history table's unqualified name
     */
    public TableMigrations(DataSource ds, String schema, String table, String history, List<Step> steps) {
        this.ds = ds;
        this.schema = schema;
        this.table = table;
        this.history = history;
        this.steps = List.copyOf(steps);
    }

    public List<Step> steps() {
        return steps;
    }

    /** Applies what the table lacks and returns how many migrations ran. */
    public int migrate() throws SQLException {
        try {
            // Version 0 as the baseline of a schema that holds other tables: every step is idempotent, so a table
            // created by an earlier release without a version record is simply brought up to date.
            int applied = flyway(true).migrate().migrationsExecuted;
            if (applied > 0) {
                LOG.infof("%s: %d migration(s) applied, now at V%d", table, applied, steps.get(steps.size() - 1).version());
            }
            return applied;
        } catch (FlywayException e) {
            throw sql(e);
        }
    }

    /**
     * The migrations the table lacks, without changing anything: from its version record, or, for a table that
     * has none, from its structure.
     */
    public List<Step> missing() throws SQLException {
        List<Step> missing = new ArrayList<>(missingRequired());
        missing.addAll(missingTuning());
        missing.sort(Comparator.comparingInt(Step::version));
        return missing;
    }

    /** Tuning steps whose change the table does not have, whatever its version record says. */
    private List<Step> missingTuning() throws SQLException {
        List<Step> missing = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            for (Step s : steps) {
                if (!s.required() && !s.present().in(c)) {
                    missing.add(s);
                }
            }
        }
        return missing;
    }

    private List<Step> missingRequired() throws SQLException {
        if (!historyExists()) {
            List<Step> missing = new ArrayList<>();
            try (Connection c = ds.getConnection()) {
                for (Step s : steps) {
                    if (s.required() && !s.present().in(c)) {
                        missing.add(s);
                    }
                }
            }
            return missing;
        }
        try {
            List<Step> missing = new ArrayList<>();
            for (MigrationInfo info : flyway(false).info().pending()) {
                steps.stream().filter(Step::required)
                        .filter(s -> MigrationVersion.fromVersion(Integer.toString(s.version()))
                                .equals(info.getVersion()))
                        .forEach(missing::add);
            }
            return missing;
        } catch (FlywayException e) {
            throw sql(e);
        }
    }

    /**
     * Fails naming every migration the table lacks and the statements that apply it; a missing tuning step is
     * named in a warning instead.
     */
    public void check(String configKey) throws SQLException {
        for (Step s : missingTuning()) {
            LOG.warnf("%s: table %s lacks %s, a tuning Tributary runs without; set %s=true to apply it at start-up, "
                    + "or run: %s", configKey, table, s.label(), configKey.replaceAll("\\.table$", ".create-table"),
                    String.join("; ", s.statements()));
        }
        List<Step> missing = missingRequired();
        if (!missing.isEmpty()) {
            throw new IllegalStateException(configKey + ": table " + table + " lacks migration(s) "
                    + missing.stream().map(Step::label).collect(Collectors.joining(", ")) + "; set " + configKey
                    .replaceAll("\\.table$", ".create-table") + "=true to apply them at start-up, or run: "
                    + missing.stream().flatMap(s -> s.statements().stream()).collect(Collectors.joining("; ")));
        }
    }

    private boolean historyExists() throws SQLException {
        if (mariaDb()) {
            try (Connection c = ds.getConnection(); var ps = c.prepareStatement("SELECT count(*) FROM "
                    + "information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?")) {
                ps.setString(1, schema);
                ps.setString(2, history);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getLong(1) > 0;
                }
            }
        }
        String qualified = (schema == null ? "" : "\"" + schema + "\".") + "\"" + history + "\"";
        try (Connection c = ds.getConnection();
                var ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, qualified);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** Whether the table lives in MariaDB or MySQL (else PostgreSQL). */
    private boolean mariaDb() throws SQLException {
        try (Connection c = ds.getConnection()) {
            return c.getMetaData().getURL().startsWith("jdbc:mariadb:");
        }
    }

    private Flyway flyway(boolean writes) throws SQLException {
        boolean mariaDb = mariaDb();
        String in = schema != null ? schema : currentSchema(mariaDb);
        return Flyway.configure(TableMigrations.class.getClassLoader())
                .dataSource(ds)
                .schemas(in)
                .defaultSchema(in)
                .createSchemas(writes)
                .table(history)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .baselineDescription("table without a version record")
                .mixed(true)
                // A session lock instead of one held in a transaction: CREATE INDEX CONCURRENTLY waits for every
                // open transaction, the lock's own included, and would never finish.
                .configuration(mariaDb ? java.util.Map.of() : java.util.Map.of("flyway.postgresql.transactional.lock",
                        "false"))
                .resourceProvider(NO_RESOURCES)
                .javaMigrationClassProvider(NO_CLASSES)
                .javaMigrations(steps.stream().map(Migration::new).toArray(JavaMigration[]::new))
                .load();
    }

    private String currentSchema(boolean mariaDb) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(mariaDb ? "SELECT DATABASE()" : "SELECT current_schema()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static SQLException sql(FlywayException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return new SQLException(e.getMessage(), s.getSQLState(), s);
            }
        }
        return new SQLException(e.getMessage(), "55000", e);
    }

    private static final ResourceProvider NO_RESOURCES = new ResourceProvider() {
        @Override
        public LoadableResource getResource(String name) {
            return null;
        }

        @Override
        public Collection<LoadableResource> getResources(String prefix, String[] suffixes) {
            return List.of();
        }
    };

    private static final ClassProvider<JavaMigration> NO_CLASSES = List::of;

    /** A step as Flyway runs it. */
    private record Migration(Step step) implements JavaMigration {

        @Override
        public MigrationVersion getVersion() {
            return MigrationVersion.fromVersion(Integer.toString(step.version()));
        }

        @Override
        public String getDescription() {
            return step.description();
        }

        @Override
        public Integer getChecksum() {
            // Statements carry configured names, which may differ between deployments of the same version.
            return null;
        }

        @Override
        public boolean canExecuteInTransaction() {
            return step.transactional();
        }

        @Override
        public void migrate(Context context) throws SQLException {
            if (!step.required() && step.present().in(context.getConnection())) {
                return; // a tuning the table's owner already chose is kept
            }
            try (Statement st = context.getConnection().createStatement()) {
                for (String statement : step.statements()) {
                    st.execute(statement);
                }
            }
        }
    }
}
