package tributary.testing;

import java.util.Optional;

import tributary.config.TributaryConfig;

/** Column overrides with none set: every column comes from the layout preset. */
public final class DefaultColumns implements TributaryConfig.Columns {

    public static final TributaryConfig.Columns NONE = new DefaultColumns();

    private DefaultColumns() {
    }

    public Optional<String> id() { return Optional.empty(); }
    public Optional<String> aggregate() { return Optional.empty(); }
    public Optional<String> businessKey() { return Optional.empty(); }
    public Optional<String> version() { return Optional.empty(); }
    public Optional<String> operation() { return Optional.empty(); }
    public Optional<String> payload() { return Optional.empty(); }
    public Optional<String> createdAt() { return Optional.empty(); }
}
