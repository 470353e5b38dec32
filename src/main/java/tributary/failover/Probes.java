package tributary.failover;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;
import tributary.config.TributaryConfig;
import tributary.pipeline.Pipeline;

/** What the health routes call: record probe outcomes, and probe Kafka. */
@ApplicationScoped
@Named(Probes.NAME)
public class Probes {

    public static final String NAME = "probes";

    private final TargetHealth health;
    private final TributaryConfig config;
    private Admin admin;

    public Probes(TargetHealth health, TributaryConfig config) {
        this.health = health;
        this.config = config;
    }

    public void succeeded(String target) {
        health.probeSucceeded(target);
    }

    public void failed(String target, Exception cause) {
        health.failed(target, cause);
    }

    /** Kafka answers a cluster description within two seconds. */
    public synchronized void kafka() throws Exception {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().brokers(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000));
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
