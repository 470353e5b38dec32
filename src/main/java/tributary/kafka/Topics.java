package tributary.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/** Creates each pipeline's topics (data, acks, dlq) when they are missing. */
@ApplicationScoped
public class Topics {

    private static final Logger LOG = Logger.getLogger(Topics.class);

    private final TributaryConfig config;
    private final Pipelines pipelines;

    public Topics(TributaryConfig config, Pipelines pipelines) {
        this.config = config;
        this.pipelines = pipelines;
    }

    /** Creates missing topics; when Kafka cannot be reached it logs and leaves creation to the broker. */
    public void createMissing() {
        Map<String, Object> props = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().brokers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get(15, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Pipeline p : pipelines.all()) {
                for (String topic : List.of(p.topic(), p.acksTopic(), p.dlqTopic())) {
                    if (!existing.contains(topic)) {
                        missing.add(new NewTopic(topic, config.kafka().partitions(), config.kafka().replicationFactor()));
                    }
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(15, TimeUnit.SECONDS);
                LOG.infof("created Kafka topics %s", missing.stream().map(NewTopic::name).toList());
            }
        } catch (ExecutionException | TimeoutException e) {
            LOG.warnf("could not create Kafka topics now (%s); they are created on first use if the broker allows it",
                    e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
