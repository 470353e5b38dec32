package tributary.failover;

import java.io.IOException;
import java.util.List;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import tributary.pipeline.Pipeline;
import tributary.pipeline.Pipelines;
import tributary.spool.Spool;

/**
 * Spool backlog as metrics: bytes, sealed segments left for replay, and quarantined records, per spool; and per
 * pipeline the records the primary's version guard turned away and the schema evolution of its target.
 */
@ApplicationScoped
public class SpoolMetrics {

    void register(@Observes StartupEvent event, Pipelines pipelines, MeterRegistry meters) {
        for (Pipeline p : pipelines.all()) {
            FunctionCounter.builder("tributary.sync.older", p.primary(), w -> w.olderRecords())
                    .description("Records not applied: the primary held a newer or equal version")
                    .tag("pipeline", p.name()).register(meters);
            FunctionCounter.builder("tributary.sync.conflicting", p.primary(), w -> w.conflictingRecords())
                    .description("Records with the primary's version but another payload").tag("pipeline", p.name())
                    .register(meters);
            FunctionCounter.builder("tributary.schema.unmapped", p.primary(), w -> w.unmappedFields())
                    .description("New payload fields no target column maps (each counted once)")
                    .tag("pipeline", p.name()).register(meters);
            FunctionCounter.builder("tributary.schema.added", p.primary(), w -> w.addedColumns())
                    .description("Target columns added for new payload fields").tag("pipeline", p.name())
                    .register(meters);
            for (String target : List.of(Pipeline.ENQUEUE, Pipeline.PRIMARY, Pipeline.STANDBY)) {
                Spool spool = p.spool(target);
                Gauge.builder("tributary.spool.bytes", spool, s -> measure(s::bytesOnDisk))
                        .tag("pipeline", p.name()).tag("target", target).register(meters);
                Gauge.builder("tributary.spool.segments", spool, s -> measure(() -> s.segments().size()))
                        .tag("pipeline", p.name()).tag("target", target).register(meters);
                Gauge.builder("tributary.spool.quarantined", spool, Spool::quarantinedRecords)
                        .tag("pipeline", p.name()).tag("target", target).register(meters);
            }
        }
    }

    private interface Reading {
        long read() throws IOException;
    }

    private static double measure(Reading reading) {
        try {
            return reading.read();
        } catch (IOException e) {
            return Double.NaN;
        }
    }
}
