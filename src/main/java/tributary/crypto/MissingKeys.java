package tributary.crypto;

import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

import org.jboss.logging.Logger;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Key ids this replica met in records but does not hold. During a rolling key rotation that is a configuration
 * matter, not bad data: the records are held back (redelivered) and readiness names the missing ids.
 */
@ApplicationScoped
public class MissingKeys {

    private static final Logger LOG = Logger.getLogger(MissingKeys.class);

    private final Set<String> missing = new ConcurrentSkipListSet<>();

    /** Records the missing key and returns the failure that holds the batch back. */
    public IllegalStateException report(String pipeline, RecordCipher.UnknownKeyException e) {
        if (missing.add(e.keyId())) {
            LOG.errorf("pipeline %s: records %s; they are held in Kafka or the spool until the key is configured",
                    pipeline, e.getMessage());
        }
        return new IllegalStateException("pipeline " + pipeline + ": " + e.getMessage());
    }

    public Set<String> ids() {
        return Set.copyOf(missing);
    }
}
