package tributary.pipeline;

import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.kafka.Topics;

/** Creates configured tables and the pipeline topics (awaiting their leaders) once, before the first route starts. */
@ApplicationScoped
public class Preparation {

    private static final Logger LOG = Logger.getLogger(Preparation.class);

    private final Pipelines pipelines;
    private final Topics topics;
    private final AtomicBoolean done = new AtomicBoolean();

    public Preparation(Pipelines pipelines, Topics topics) {
        this.pipelines = pipelines;
        this.topics = topics;
    }

    public void prepare() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        try {
            pipelines.createTables();
        } catch (SQLException e) {
            // A database that is down at start-up must not keep Tributary down: writes retry until it is back.
            LOG.warnf("could not create configured tables now: %s", e.getMessage());
        }
        topics.prepare();
    }
}
