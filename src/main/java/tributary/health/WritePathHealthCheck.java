package tributary.health;

import java.io.IOException;
import java.nio.file.Files;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.failover.TargetHealth;
import tributary.kafka.KafkaErrors;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.spool.Spool;

/**
 * Readiness: Tributary can accept work while Kafka takes writes or every enqueue spool can, unless the broker
 * refused the credentials. The data shows each target's state (UP, DOWN, RECOVERING), Kafka's last error, and each
 * spool's backlog.
 */
@Readiness
@ApplicationScoped
public class WritePathHealthCheck implements HealthCheck {

    private final Pipelines pipelines;
    private final TargetHealth health;
    private final long maxBytes;

    public WritePathHealthCheck(Pipelines pipelines, TargetHealth health, TributaryConfig config) {
        this.pipelines = pipelines;
        this.health = health;
        this.maxBytes = config.spool().maxBytes();
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("tributary-write-path");
        TargetHealth.Status kafka = health.status(Pipeline.KAFKA);
        response.withData("target.kafka", kafka.state().name());
        if (kafka.lastError() != null) {
            response.withData("target.kafka.error", kafka.lastError());
        }
        boolean spoolsWritable = true;
        for (Pipeline p : pipelines.all()) {
            response.withData("target." + p.primaryName(), health.status(p.primaryName()).state().name());
            p.standbyName().ifPresent(s -> response.withData("target." + s, health.status(s).state().name()));
            spoolsWritable &= spool(response, p.name() + ".spool.enqueue", p.enqueueSpool());
            spool(response, p.name() + ".spool.primary", p.primarySpool());
        }
        // A broker that refuses the credentials will not take the spool either: not ready, so a rollout with
        // wrong credentials stops instead of spooling until the disk is full.
        boolean refused = KafkaErrors.isRefusal(kafka.lastError());
        return response.status(health.isUp(Pipeline.KAFKA) || spoolsWritable && !refused).build();
    }

    private boolean spool(HealthCheckResponseBuilder response, String name, Spool spool) {
        try {
            long bytes = spool.bytesOnDisk();
            response.withData(name + ".bytes", bytes);
            response.withData(name + ".segments", spool.segments().size());
            response.withData(name + ".quarantined", spool.quarantinedRecords());
            return bytes < maxBytes && Files.isWritable(spool.dir());
        } catch (IOException e) {
            response.withData(name + ".error", e.getMessage());
            return false;
        }
    }
}
