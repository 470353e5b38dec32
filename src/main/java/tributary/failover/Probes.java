package tributary.failover;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;
import tributary.kafka.KafkaClients;
import tributary.kafka.KafkaErrors;
import tributary.pipeline.Pipeline;

/** What the health routes call: record probe outcomes, and probe Kafka. */
@ApplicationScoped
@Named(Probes.NAME)
public class Probes {

    public static final String NAME = "probes";

    private final TargetHealth health;
    private final KafkaClients clients;
    private Admin admin;

    public Probes(TargetHealth health, KafkaClients clients) {
        this.health = health;
        this.clients = clients;
    }

    public void succeeded(String target) {
        health.probeSucceeded(target);
    }

    /** Kafka's reason says whether the broker refused the credentials, which readiness reports. */
    public void failed(String target, Exception cause) {
        if (Pipeline.KAFKA.equals(target)) {
            health.failed(target, KafkaErrors.describe(cause));
        } else {
            health.failed(target, cause);
        }
    }

    /** Kafka answers a cluster description within two seconds. */
    public synchronized void kafka() throws Exception {
        if (admin == null) {
            admin = Admin.create(clients.admin(Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000)));
        }
        admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
        health.probeSucceeded(Pipeline.KAFKA);
    }

    synchronized void close(@Observes ShutdownEvent event) {
        if (admin != null) {
            admin.close();
        }
    }
}
