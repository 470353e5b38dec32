package tributary.failover;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import tributary.config.TributaryConfig;

/** The one {@link TargetHealth} of this replica. */
@ApplicationScoped
public class HealthProducer {

    @Produces
    @Singleton
    TargetHealth targetHealth(TributaryConfig config) {
        return new TargetHealth(config.health().recoverAfter());
    }
}
