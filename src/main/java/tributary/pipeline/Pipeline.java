package tributary.pipeline;

import tributary.config.TributaryConfig;
import tributary.outbox.OutboxStore;
import tributary.sink.TargetWriter;

/** One configured pipeline at run time: its settings, outbox, target, topics and poll pacing. */
public record Pipeline(String name, TributaryConfig.Pipeline config, OutboxStore outbox, TargetWriter primary,
        PollPacer pacer) {

    public String topic() {
        return config.topic().orElse("tributary." + name);
    }

    /** The success queue: outbox ids the sink committed. */
    public String acksTopic() {
        return topic() + ".acks";
    }

    /** The failure queue: records that can never be written, with their reason. */
    public String dlqTopic() {
        return topic() + ".dlq";
    }

    public boolean deleteAtAck() {
        return config.retention().done().isZero();
    }
}
