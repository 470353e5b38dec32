package tributary.health;

import java.time.Duration;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import io.smallrye.health.api.Wellness;
import jakarta.enterprise.context.ApplicationScoped;
import tributary.pipeline.Maintenance;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/**
 * Outbox backlog per pipeline under {@code /q/health/well}: rows by status and the age of the oldest unfinished
 * row. A pipeline whose oldest unfinished row is older than its threshold, or where a row became DEAD within the
 * dead window, is DEGRADED (reported DOWN here, not in
 * liveness or readiness: a slow pipeline must not be restarted or taken out of service for it).
 */
@Wellness
@ApplicationScoped
public class BacklogHealthCheck implements HealthCheck {

    private final Pipelines pipelines;
    private final Maintenance maintenance;

    public BacklogHealthCheck(Pipelines pipelines, Maintenance maintenance) {
        this.pipelines = pipelines;
        this.maintenance = maintenance;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("tributary-backlog").up();
        for (Pipeline p : pipelines.outboxes()) {
            Maintenance.Reading reading = maintenance.reading(p.name());
            if (reading == null) {
                response.withData(p.name() + ".state", "UNKNOWN");
                continue;
            }
            Duration age = reading.oldestUnfinishedAge();
            boolean degraded = age.compareTo(p.config().backlog().degradedAfter()) > 0;
            // A rising DEAD count is a pipeline losing records to their faults: an operator should look.
            java.time.Instant lastDead = reading.backlog().lastDeadAt();
            if (lastDead != null && Duration.between(lastDead, reading.at()).compareTo(p.config().backlog().deadWindow()) < 0) {
                degraded = true;
                response.withData(p.name() + ".last-dead-seconds-ago", Duration.between(lastDead, reading.at()).toSeconds());
            }
            response.withData(p.name() + ".state", degraded ? "DEGRADED" : "OK");
            response.withData(p.name() + ".oldest-unfinished-seconds", age.toSeconds());
            reading.backlog().counts().forEach((status, n) -> response.withData(p.name() + "." + status, n));
            if (degraded) {
                response.down();
            }
        }
        return response.build();
    }
}
