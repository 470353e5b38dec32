package tributary.kafka;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;
import tributary.pipeline.Exchanges;

/**
 * Commits a consumer batch's offsets, called by routes only after everything downstream is durable. A batch can
 * span partitions: the last record of each partition is committed, so none is left behind.
 */
@ApplicationScoped
@Named(Offsets.NAME)
public class Offsets {

    public static final String NAME = "offsets";

    public void commit(@ExchangeProperty(Exchanges.BATCH) List<Exchange> batch) {
        Map<Object, KafkaManualCommit> lastPerPartition = new LinkedHashMap<>();
        for (Exchange record : batch) {
            Message m = record.getMessage();
            KafkaManualCommit commit = m.getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
            if (commit == null) {
                throw new IllegalStateException("consumer must run with allowManualCommit=true");
            }
            lastPerPartition.put(List.of(m.getHeader(KafkaConstants.TOPIC), m.getHeader(KafkaConstants.PARTITION)), commit);
        }
        lastPerPartition.values().forEach(KafkaManualCommit::commit);
    }
}
