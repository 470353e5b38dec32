package tributary.health;

import java.io.IOException;
import java.nio.file.Files;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.crypto.MissingKeys;
import tributary.failover.TargetHealth;
import tributary.kafka.KafkaErrors;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.spool.Spool;

/**
 * Readiness: Tributary can accept work while Kafka takes writes or every enqueue spool can, and while it holds
 * every key its records are sealed with, unless the broker refused the credentials. The data shows each target's state (UP, DOWN, RECOVERING) with its last
 * error, Kafka's last error, each spool's backlog, why collect is paused, and the key ids records named that this replica lacks.
 */
@Readiness
@ApplicationScoped
public class WritePathHealthCheck implements HealthCheck {

    private final Pipelines pipelines;
    private final TargetHealth health;
    private final long maxBytes;
    private final MissingKeys missingKeys;

    public WritePathHealthCheck(Pipelines pipelines, TargetHealth health, TributaryConfig config, MissingKeys missingKeys) {
        this.pipelines = pipelines;
        this.health = health;
        this.maxBytes = config.spool().maxBytes();
        this.missingKeys = missingKeys;
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
            boolean enqueueSpool = spool(response, p.name() + ".spool.enqueue", p.enqueueSpool());
            spoolsWritable &= enqueueSpool;
            spool(response, p.name() + ".spool.primary", p.primarySpool());
            if (!health.isUp(Pipeline.KAFKA) && !enqueueSpool) {
                String why = p.enqueueSpool().failure();
                response.withData(p.name() + ".collect", "PAUSED: Kafka is " + health.status(Pipeline.KAFKA).state()
                        + " and the enqueue spool cannot take writes" + (why == null ? "" : " (" + why + ")")
                        + "; rows stay PENDING in the outbox");
            }
        }
        boolean keys = missingKeys.ids().isEmpty();
        if (!keys) {
            response.withData("crypto.missing-keys", String.join(",", missingKeys.ids()));
            response.withData("crypto.action", "records are sealed with key ids this replica does not hold: add them "
                    + "under tributary.crypto.keys; the records wait in Kafka or the spool, nothing is dead-lettered");
        }
        // A broker that refuses the credentials will not take the spool either: not ready, so a rollout with
        // wrong credentials stops instead of spooling until the disk is full.
        boolean refused = KafkaErrors.isRefusal(kafka.lastError());
        return response.status((health.isUp(Pipeline.KAFKA) || spoolsWritable && !refused) && keys).build();
    }

    private boolean spool(HealthCheckResponseBuilder response, String name, Spool spool) {
        try {
            long bytes = spool.bytesOnDisk();
            response.withData(name + ".bytes", bytes);
            response.withData(name + ".segments", spool.segments().size());
            response.withData(name + ".quarantined", spool.quarantinedRecords());
            return bytes < maxBytes && Files.isDirectory(spool.dir()) && Files.isWritable(spool.dir())
                    && spool.failure() == null;
        } catch (IOException e) {
            response.withData(name + ".error", e.getMessage());
            return false;
        }
    }
}
