package tributary.outbox;

import java.util.Optional;

import tributary.config.Identifiers;
import tributary.config.TributaryConfig.Columns;
import tributary.config.TributaryConfig.Layout;

/**
 * The outbox table of one pipeline with its columns resolved from the layout preset and overrides, all
 * validated and quoted. {@code version} is empty when the outbox id serves as the version.
 */
public record OutboxTable(String table, String id, String aggregate, String key, Optional<String> version,
        String operation, String payload, String createdAt) {

    public static final String NO_VERSION = "none";

    public static OutboxTable of(String table, Layout layout, Columns columns) {
        boolean debezium = layout == Layout.DEBEZIUM;
        String version = columns.version().orElse(debezium ? NO_VERSION : "version");
        return new OutboxTable(
                Identifiers.quote(table),
                Identifiers.quote(columns.id().orElse("id")),
                Identifiers.quote(columns.aggregate().orElse(debezium ? "aggregatetype" : "aggregate")),
                Identifiers.quote(columns.businessKey().orElse(debezium ? "aggregateid" : "business_key")),
                NO_VERSION.equalsIgnoreCase(version) ? Optional.empty() : Optional.of(Identifiers.quote(version)),
                Identifiers.quote(columns.operation().orElse(debezium ? "type" : "operation")),
                Identifiers.quote(columns.payload().orElse("payload")),
                Identifiers.quote(columns.createdAt().orElse(debezium ? "created_at" : "created_at")));
    }

    /** The column that orders a key's versions: the version column, or the outbox id. */
    public String versionOrId() {
        return version.orElse(id);
    }
}
