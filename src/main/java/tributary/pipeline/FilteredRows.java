package tributary.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/** Counts outbox rows a cleaning rule filtered out, per pipeline ({@code tributary_outbox_filtered_total}). */
@ApplicationScoped
public class FilteredRows {

    private final MeterRegistry meters;

    public FilteredRows(MeterRegistry meters) {
        this.meters = meters;
    }

    public void add(String pipeline, long rows) {
        if (rows > 0) {
            Counter.builder("tributary.outbox.filtered").description("Outbox rows filtered out by cleaning rules")
                    .tag("pipeline", pipeline).register(meters).increment(rows);
        }
    }
}
