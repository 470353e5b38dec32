package routes;

/** Kafka endpoint options shared by the route templates; tunables come from configuration placeholders. */
final class KafkaUris {

    /**
     * Producer: idempotent, acks from all in-sync replicas, byte values. Collect hands Kafka whole batches, so a
     * short linger suffices. The producer sends a batch record by record, and each send would block up to
     * max.block.ms while topic metadata is missing (Kafka down at start, or after a broker restart): a batch of
     * a thousand would stall for hours. So sends never block (max.block.ms=0): a batch Kafka cannot take at once
     * fails at once and goes to the spool, and the health probe brings Kafka back within a second. Topic
     * metadata of an idle pipeline is kept for a day so that normal sends do not hit that path. Batches of up to
     * 256 KiB per partition carry a claim of 1,000 records in a few requests instead of dozens of 16 KiB ones
     * (measured: collect 27,000 → 34,000 rows/s on a backlog; {@code tributary.kafka.client.batch.size} overrides).
     * A send waits for Kafka's acknowledgement on the route's own thread (synchronous): a route fed by a queue (publish,
     * publish-acks) then takes the next batch only once Kafka has the one before, or failed it, and no worker thread
     * hop sits between the acknowledgement and the route going on.
     */
    static final String PRODUCER = "?requestRequiredAcks=all&enableIdempotence=true&maxInFlightRequest=5&synchronous=true"
            + "&lingerMs={{tributary.kafka.linger-ms:1}}&producerBatchSize=262144&batchWithIndividualHeaders=true"
            + "&keySerializer=org.apache.kafka.common.serialization.StringSerializer"
            + "&valueSerializer=org.apache.kafka.common.serialization.ByteArraySerializer"
            + "&requestTimeoutMs=5000&deliveryTimeoutMs=10000&maxBlockMs=0"
            + "&additionalProperties.metadata.max.idle.ms=86400000";

    /**
     * Batching consumer with offsets committed by the route after the sink commit. breakOnFirstError makes a
     * failed batch seek back and be delivered again instead of being skipped by a later commit. Commits go through
     * {@code Offsets}, which sends them without waiting (Camel's asynchronous commit factory never commits in
     * batching mode; a test checks the offsets). The data consumer waits at most batch-wait-ms for a batch to fill.
     */
    static final String BATCH_CONSUMER = consumer("{{tributary.kafka.batch-wait-ms:5}}");

    /**
     * The acks and dead-letter consumers: no row's latency waits on them (an ack marks a row the primary already
     * has), so they wait up to 100 ms for a batch. An idle one then wakes 10 times a second instead of 200.
     */
    static final String CONTROL_CONSUMER = consumer("100");

    private static String consumer(String waitMs) {
        return "&batching=true&allowManualCommit=true&autoCommitEnable=false"
                + "&breakOnFirstError=true&autoOffsetReset=earliest"
                + "&pollTimeoutMs=" + waitMs + "&batchingIntervalMs=" + waitMs
                + "&keyDeserializer=org.apache.kafka.common.serialization.StringDeserializer"
                + "&valueDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer";
    }

    private KafkaUris() {
    }
}
