package tributary.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Counts outbox rows this replica made final without publishing them, per pipeline: DEAD
 * ({@code tributary_outbox_dead_total}) and FILTERED by a cleaning rule ({@code tributary_outbox_filtered_total}).
 */
@ApplicationScoped
public class DeadRows {

    private final MeterRegistry meters;

    public DeadRows(MeterRegistry meters) {
        this.meters = meters;
    }

    public void add(String pipeline, long rows) {
        count("tributary.outbox.dead", "Outbox rows made DEAD", pipeline, rows);
    }

    public void filtered(String pipeline, long rows) {
        count("tributary.outbox.filtered", "Outbox rows filtered out by cleaning rules", pipeline, rows);
    }

    private void count(String name, String description, String pipeline, long rows) {
        if (rows > 0) {
            Counter.builder(name).description(description).tag("pipeline", pipeline).register(meters).increment(rows);
        }
    }
}
