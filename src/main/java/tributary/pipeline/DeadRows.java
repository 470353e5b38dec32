package tributary.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/** Counts outbox rows this replica made DEAD, per pipeline ({@code tributary_outbox_dead_total}). */
@ApplicationScoped
public class DeadRows {

    private final MeterRegistry meters;

    public DeadRows(MeterRegistry meters) {
        this.meters = meters;
    }

    public void add(String pipeline, long rows) {
        if (rows > 0) {
            Counter.builder("tributary.outbox.dead").description("Outbox rows made DEAD").tag("pipeline", pipeline)
                    .register(meters).increment(rows);
        }
    }
}
