package routes;

/** Kafka endpoint options shared by the route templates; tunables come from configuration placeholders. */
final class KafkaUris {

    /**
     * Producer: idempotent, acks from all in-sync replicas, byte values. Collect hands Kafka whole batches, so a
     * short linger suffices; bounded timeouts let a Kafka outage surface as an error instead of a long block.
     */
    static final String PRODUCER = "?requestRequiredAcks=all&enableIdempotence=true&maxInFlightRequest=5"
            + "&lingerMs={{tributary.kafka.linger-ms:1}}&batchWithIndividualHeaders=true"
            + "&keySerializer=org.apache.kafka.common.serialization.StringSerializer"
            + "&valueSerializer=org.apache.kafka.common.serialization.ByteArraySerializer"
            + "&requestTimeoutMs=10000&deliveryTimeoutMs=30000&maxBlockMs=10000";

    /**
     * Batching consumer with offsets committed by the route after the sink commit. breakOnFirstError makes a
     * failed batch seek back and be delivered again instead of being skipped by a later commit. Commits are
     * synchronous: the asynchronous commit factory never commits in batching mode (a test checks the offsets).
     */
    static final String BATCH_CONSUMER = "&batching=true&allowManualCommit=true&autoCommitEnable=false"
            + "&breakOnFirstError=true&autoOffsetReset=earliest"
            + "&pollTimeoutMs={{tributary.kafka.batch-wait-ms:5}}&batchingIntervalMs={{tributary.kafka.batch-wait-ms:5}}"
            + "&keyDeserializer=org.apache.kafka.common.serialization.StringDeserializer"
            + "&valueDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer";

    private KafkaUris() {
    }
}
