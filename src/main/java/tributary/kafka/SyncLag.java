package tributary.kafka;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import tributary.pipeline.Pipeline;

/**
 * How far a pipeline's consumers are behind: records on the data and acks topics that their groups have not
 * committed yet. The ack timeout does not re-drive rows while sync is behind: their acks may simply be on the way.
 */
@ApplicationScoped
public class SyncLag {

    private final KafkaClients clients;
    private Admin admin;

    public SyncLag(KafkaClients clients) {
        this.clients = clients;
    }

    /** Records not yet consumed by the sync and ack groups of the pipeline; throws when Kafka does not answer. */
    public synchronized long behind(Pipeline p) throws Exception {
        if (admin == null) {
            Map<String, Object> own = new HashMap<>();
            own.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
            own.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
            admin = Admin.create(clients.admin(own));
        }
        long lag = 0;
        for (List<String> groupAndTopic : List.of(List.of("tributary-" + p.name(), p.topic()),
                List.of("tributary-" + p.name() + "-acks", p.acksTopic()))) {
            lag += lag(groupAndTopic.get(0), groupAndTopic.get(1));
        }
        return lag;
    }

    private long lag(String group, String topic) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(3, TimeUnit.SECONDS);
        var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(3, TimeUnit.SECONDS).get(topic).partitions();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(info -> latest.put(new TopicPartition(topic, info.partition()), OffsetSpec.latest()));
        var ends = admin.listOffsets(latest).all().get(3, TimeUnit.SECONDS);
        long lag = 0;
        for (var end : ends.entrySet()) {
            OffsetAndMetadata at = committed.get(end.getKey());
            lag += Math.max(0, end.getValue().offset() - (at == null ? 0 : at.offset()));
        }
        return lag;
    }

    synchronized void close(@Observes ShutdownEvent event) {
        if (admin != null) {
            admin.close();
        }
    }
}
