package tributary.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;
import tributary.config.TributaryConfig;
import tributary.failover.TargetHealth;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;

/**
 * Each pipeline's topics (data, acks, dlq): names checked at start-up, created when missing, and awaited until every
 * partition has a leader, so the first batch finds its topic instead of the spool.
 */
@ApplicationScoped
public class Topics {

    private static final Logger LOG = Logger.getLogger(Topics.class);
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");
    /** Kafka's limit; the acks topic adds the longest suffix. */
    private static final int MAX_LENGTH = 249;
    private static final String LONGEST_SUFFIX = ".acks";
    private static final long CALL_TIMEOUT_MS = 5_000;
    private static final long RETRY_MS = 250;

    private final TributaryConfig config;
    private final Pipelines pipelines;
    private final KafkaClients clients;
    private final TargetHealth health;
    private volatile boolean ready;

    public Topics(TributaryConfig config, Pipelines pipelines, KafkaClients clients, TargetHealth health) {
        this.config = config;
        this.pipelines = pipelines;
        this.clients = clients;
        this.health = health;
        for (Pipeline p : pipelines.all()) {
            checkName(p.name(), p.topic());
        }
    }

    /** A topic name Kafka accepts, also with the acks and dlq suffixes; the error names the key. */
    static void checkName(String pipeline, String topic) {
        if (!LEGAL.matcher(topic).matches() || topic.equals(".") || topic.equals("..")
                || topic.length() + LONGEST_SUFFIX.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("tributary.pipelines." + pipeline + ".topic '" + topic
                    + "' is not a legal Kafka topic name: letters, digits, '.', '_' and '-', at most "
                    + (MAX_LENGTH - LONGEST_SUFFIX.length()) + " characters (Tributary adds .acks and .dlq)");
        }
    }

    /**
     * Creates missing topics and waits until all have leaders, for at most {@code tributary.kafka.topic-wait}. A
     * Kafka that is away meanwhile must not keep Tributary down: it logs and collecting starts, with the spool
     * taking what Kafka cannot. A broker that refuses the credentials takes Kafka out of the write path at once.
     */
    public void prepare() {
        Duration wait = config.kafka().topicWait();
        if (wait.isZero() || wait.isNegative()) {
            return;
        }
        List<String> names = names();
        long deadline = System.nanoTime() + wait.toNanos();
        String notReady = "no answer";
        Admin admin = Admin.create(clients.admin(Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                (int) CALL_TIMEOUT_MS, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CALL_TIMEOUT_MS)));
        try {
            while (true) {
                try {
                    createMissing(admin, names, deadline);
                    List<String> leaderless = withoutLeaders(admin, names, deadline);
                    if (leaderless.isEmpty()) {
                        LOG.infof("Kafka topics ready: %s", names);
                        ready = true;
                        return;
                    }
                    notReady = "no leader yet for " + leaderless;
                } catch (ExecutionException | TimeoutException e) {
                    if (KafkaErrors.refused(e)) {
                        String reason = KafkaErrors.describe(e);
                        health.failed(Pipeline.KAFKA, reason);
                        LOG.errorf("Kafka topics not checked: %s; Kafka stays out of the write path until the broker "
                                + "accepts the client settings (tributary.kafka.client.*)", reason);
                        return;
                    }
                    notReady = KafkaErrors.describe(e);
                }
                if (remainingMs(deadline) <= 0) {
                    break;
                }
                Thread.sleep(Math.min(RETRY_MS, remainingMs(deadline)));
            }
            LOG.warnf("Kafka topics %s not ready within %s (%s); collecting starts anyway, batches Kafka cannot take "
                    + "go to the enqueue spool", names, wait, notReady);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            admin.close(Duration.ofSeconds(1));
        }
    }

    /** Every pipeline's data, acks and dlq topic. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        for (Pipeline p : pipelines.all()) {
            names.addAll(List.of(p.topic(), p.acksTopic(), p.dlqTopic()));
        }
        return names;
    }

    /** Whether {@link #prepare()} saw every topic with its leaders. */
    public boolean ready() {
        return ready;
    }

    private void createMissing(Admin admin, List<String> names, long deadline)
            throws ExecutionException, TimeoutException, InterruptedException {
        Set<String> existing = get(admin.listTopics(new ListTopicsOptions().timeoutMs(callTimeout(deadline))).names(),
                deadline);
        List<NewTopic> missing = new ArrayList<>();
        for (String topic : names) {
            if (!existing.contains(topic)) {
                missing.add(new NewTopic(topic, config.kafka().partitions(), config.kafka().replicationFactor()));
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        Map<String, KafkaFuture<Void>> created = admin.createTopics(missing,
                new CreateTopicsOptions().timeoutMs(callTimeout(deadline))).values();
        for (KafkaFuture<Void> f : created.values()) {
            try {
                get(f, deadline);
            } catch (ExecutionException e) {
                // Another replica created it in the meantime: just as good.
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        LOG.infof("created Kafka topics %s", missing.stream().map(NewTopic::name).toList());
    }

    /** Topics that do not have a leader for every partition yet (a new topic's metadata takes a moment). */
    private static List<String> withoutLeaders(Admin admin, List<String> names, long deadline)
            throws ExecutionException, TimeoutException, InterruptedException {
        Map<String, TopicDescription> described = get(admin.describeTopics(names,
                new DescribeTopicsOptions().timeoutMs(callTimeout(deadline))).allTopicNames(), deadline);
        List<String> leaderless = new ArrayList<>();
        for (String topic : names) {
            TopicDescription d = described.get(topic);
            if (d == null || d.partitions().isEmpty() || d.partitions().stream().anyMatch(Topics::leaderless)) {
                leaderless.add(topic);
            }
        }
        return leaderless;
    }

    private static boolean leaderless(TopicPartitionInfo partition) {
        return partition.leader() == null || partition.leader().isEmpty();
    }

    private static <T> T get(KafkaFuture<T> future, long deadline)
            throws ExecutionException, TimeoutException, InterruptedException {
        return future.get(Math.max(1, remainingMs(deadline)) + 500, TimeUnit.MILLISECONDS);
    }

    private static int callTimeout(long deadline) {
        return (int) Math.max(1, Math.min(CALL_TIMEOUT_MS, remainingMs(deadline)));
    }

    private static long remainingMs(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }
}
