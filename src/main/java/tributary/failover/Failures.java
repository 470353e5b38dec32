package tributary.failover;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RetriableException;

import tributary.crypto.RecordCipher;

/**
 * Sorts failures into transient (retry with backoff, fail over) and permanent (dead-letter at once). Unknown
 * failures count as transient: retrying something permanent costs time, dead-lettering something transient
 * would lose a good record.
 */
public final class Failures {

    public enum Kind {
        TRANSIENT, PERMANENT
    }

    private Failures() {
    }

    public static Kind classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RecordCipher.SealException || t instanceof AuthenticationException
                    || t instanceof AuthorizationException) {
                return Kind.PERMANENT;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return sqlState(sql.getSQLState());
            }
            if (t instanceof SQLTransientException || t instanceof RetriableException || t instanceof ConnectException
                    || t instanceof SocketTimeoutException || t instanceof TimeoutException) {
                return Kind.TRANSIENT;
            }
            if (t instanceof IllegalArgumentException) {
                return Kind.PERMANENT;
            }
            if (t instanceof org.apache.kafka.common.errors.ApiException) {
                // Kafka's non-retriable API errors: a record too large, an invalid record.
                return Kind.PERMANENT;
            }
        }
        return Kind.TRANSIENT;
    }

    /**
     * SQLState classes: 08 connection, 40 rollback (serialization, deadlock), 53 insufficient resources, 57 operator
     * intervention (shutdown, cancel), 58 system error and anything unknown are transient; 22 data
     * exceptions, 23 integrity violations and 42 syntax/undefined objects caused by data are permanent; 28
     * (invalid authorization) is permanent until an operator fixes the credentials.
     */
    static Kind sqlState(String state) {
        if (state.length() < 2) {
            return Kind.TRANSIENT;
        }
        return switch (state.substring(0, 2)) {
            case "08", "40", "53", "57", "58", "HY" -> Kind.TRANSIENT;
            case "22", "23", "28", "42" -> Kind.PERMANENT;
            default -> Kind.TRANSIENT;
        };
    }

    /**
     * Whether a database rejected a record for its data (SQLState classes 22 data exception and 23 integrity
     * violation): only such a record is poison. Anything else, including auth (28), permissions (42501) or a
     * missing table (42P01), is the target being unusable, and fails the target over instead of dead-lettering
     * every record.
     */
    public static boolean isRecordFault(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String cls = sql.getSQLState().length() < 2 ? "" : sql.getSQLState().substring(0, 2);
                // 54: a program limit a record can hit on its own (an index row too large for a huge key).
                return cls.equals("22") || cls.equals("23") || cls.equals("54");
            }
        }
        return false;
    }

    /**
     * A description of a failure that is safe to log and store: for database errors the SQLState and the exception
     * type only (server messages can quote row data), for others the type and message of the deepest cause.
     */
    public static String describe(Throwable failure) {
        Throwable deepest = failure;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql) {
                return "SQLState " + sql.getSQLState() + " (" + sql.getClass().getSimpleName() + ")";
            }
            deepest = t;
        }
        String message = deepest.getMessage();
        return deepest.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    public static boolean isTransient(Throwable failure) {
        return classify(failure) == Kind.TRANSIENT;
    }
}
