package tributary.fault;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import tributary.bench.Chaos;
import tributary.bench.ChaosResult;
import tributary.bench.Fault;
import tributary.testing.Servers;

/**
 * A short chaos run in the build, from the packaged application: 20,000 rows stream while Kafka, the primary, the
 * standby and Tributary (kill -9) each go down at least once, in a seeded order; afterwards the primary must hold
 * exactly the source's newest state per key.
 */
class ChaosIT {

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyFaultKindMidStreamLosesDuplicatesAndStalesNothing() throws Exception {
        // Its own pipeline, aggregate, keys, table and topic: KillNineIT shares these servers.
        Chaos.Options options = new Chaos.Options("chaosit", 20_000, 7, true, Duration.ofSeconds(1), Duration.ofSeconds(3),
                Duration.ofSeconds(2), Duration.ofSeconds(6), 100, 200, Duration.ofSeconds(120));

        ChaosResult result = Chaos.run(Servers.get(), options);

        System.out.println(result.summary());
        assertAll(result.summary(),
                () -> assertTrue(result.converged(), "the primary matched the source before the deadline"),
                () -> assertEquals(0, result.lost(), "lost"),
                () -> assertEquals(0, result.duplicated(), "duplicated"),
                () -> assertEquals(0, result.stale(), "stale"),
                () -> assertEquals(result.keys(), result.primaryRows(), "one primary row per source key"),
                () -> assertTrue(result.keys() > 5_000, "the run covered many keys: " + result.keys()),
                () -> {
                    for (Fault fault : Fault.values()) {
                        assertTrue(result.faults().get(fault) >= 1, fault.label() + " went down at least once");
                    }
                });
    }
}
