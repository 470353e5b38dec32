package tributary.kafka;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * Puts a Kafka failure into words for health and logs. A broker that refuses the credentials or the permissions is
 * told apart from one that is away: waiting does not fix it, an operator must. Kafka's own messages carry no
 * credentials (its password-type settings print as [hidden]).
 */
public final class KafkaErrors {

    static final String AUTHENTICATION = "authentication refused by the broker";
    static final String AUTHORIZATION = "authorization refused by the broker";

    private KafkaErrors() {
    }

    /** Whether the broker refused the client's credentials or permissions. */
    public static boolean refused(Throwable failure) {
        return refusal(failure) != null;
    }

    /** Whether a reason from {@link #describe} is a refusal. */
    public static boolean isRefusal(String reason) {
        return reason != null && (reason.startsWith(AUTHENTICATION) || reason.startsWith(AUTHORIZATION));
    }

    /** A one-line reason: a refusal says so; anything else is the failure without its future wrappers. */
    public static String describe(Throwable failure) {
        Throwable refusal = refusal(failure);
        if (refusal != null) {
            String what = refusal instanceof AuthenticationException ? AUTHENTICATION : AUTHORIZATION;
            return what + " (" + refusal.getClass().getSimpleName() + ": " + refusal.getMessage() + ")";
        }
        Throwable t = failure;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t);
    }

    private static Throwable refusal(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AuthenticationException || t instanceof AuthorizationException) {
                return t;
            }
        }
        return null;
    }
}
