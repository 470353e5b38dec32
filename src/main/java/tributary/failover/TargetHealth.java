package tributary.failover;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

/**
 * Write-path health of the targets (each datasource, and Kafka). A failed write or probe takes a target out at
 * once; it comes back only after {@code recoverAfter} consecutive good probes, so a flapping target does not bounce
 * batches between paths.
 */
public final class TargetHealth {

    public enum State {
        UP, DOWN, RECOVERING
    }

    /** A target's state, consecutive good probes while recovering, and the last failure. */
    public record Status(State state, int goodProbes, String lastError, Instant since) {
    }

    private static final Logger LOG = Logger.getLogger(TargetHealth.class);

    private final int recoverAfter;
    private final Map<String, Status> targets = new ConcurrentHashMap<>();

    public TargetHealth(int recoverAfter) {
        if (recoverAfter < 1) {
            throw new IllegalArgumentException("recover-after must be at least 1");
        }
        this.recoverAfter = recoverAfter;
    }

    /** Targets start UP: the first write or probe tells otherwise. */
    public boolean isUp(String target) {
        return status(target).state() == State.UP;
    }

    public Status status(String target) {
        return targets.getOrDefault(target, new Status(State.UP, 0, null, Instant.EPOCH));
    }

    /** A write or probe failed: out of the write path at once. */
    public void failed(String target, Throwable cause) {
        failed(target, String.valueOf(cause));
    }

    /** A write or probe failed for the given reason (shown in health; never a credential). */
    public void failed(String target, String reason) {
        Status before = targets.put(target, new Status(State.DOWN, 0, reason, Instant.now()));
        if (before == null || before.state() != State.DOWN) {
            LOG.warnf("target %s is DOWN: %s", target, reason);
        }
    }

    /** A probe succeeded. */
    public void probeSucceeded(String target) {
        targets.compute(target, (name, s) -> {
            if (s == null || s.state() == State.UP) {
                return s;
            }
            int good = s.goodProbes() + 1;
            if (good >= recoverAfter) {
                LOG.infof("target %s is UP again after %d good probes", name, good);
                return new Status(State.UP, 0, null, Instant.now());
            }
            return new Status(State.RECOVERING, good, s.lastError(), s.since());
        });
    }
}
