package tributary.health;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.capture.CaptureStage;
import tributary.capture.TableCapture;

/**
 * Table-mode pipelines: whether the change log reader runs, how far the snapshot is, and how much WAL the source
 * keeps for the pipeline's slot. A reader that failed (source down, slot taken) is not ready; it is restarted.
 */
@Readiness
@ApplicationScoped
public class CaptureHealthCheck implements HealthCheck {

    private final CaptureStage captures;

    public CaptureHealthCheck(CaptureStage captures) {
        this.captures = captures;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("tributary-capture").up();
        for (TableCapture c : captures.captures().values()) {
            String p = c.pipeline();
            response.withData(p + ".state", c.state());
            response.withData(p + ".table", c.source().table());
            response.withData(p + ".snapshot", c.progress().describe());
            response.withData(p + ".slot", c.source().slot());
            response.withData(p + ".slot-lag-bytes", captures.slotLag(p));
            response.withData(p + ".streamed", c.streamed());
            if (c.state().startsWith("FAILED")) {
                response.down();
            }
        }
        return response.build();
    }
}
