package tributary.logging;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logmanager.ExtLogRecord;

import io.quarkus.logging.LoggingFilter;

/**
 * Takes configured secrets (passwords, keys, secrets, JAAS settings) out of every log record before it is written,
 * message and exception text alike. Libraries that print their whole configuration when they fail (the change log
 * reader's offset store does) then print {@code ***} where the secret was.
 */
@LoggingFilter(name = SecretsFilter.NAME)
public final class SecretsFilter implements Filter {

    public static final String NAME = "tributary-secrets";
    private static final String MASK = "***";

    private volatile List<String> secrets;

    public SecretsFilter() {
    }

    /** A filter for the given configuration (tests). */
    SecretsFilter(Config config) {
        this.secrets = collect(config);
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        List<String> known = secrets();
        if (known.isEmpty()) {
            return true;
        }
        String message = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        if (message != null) {
            String clean = redact(message, known);
            if (!clean.equals(message)) {
                if (record instanceof ExtLogRecord ext) {
                    ext.setMessage(clean, ExtLogRecord.FormatStyle.NO_FORMAT);
                } else {
                    record.setMessage(clean);
                }
                record.setParameters(null);
            }
        }
        Throwable thrown = record.getThrown();
        if (thrown != null && mentions(thrown, known)) {
            record.setThrown(cleaned(thrown, known));
        }
        return true;
    }

    private List<String> secrets() {
        List<String> s = secrets;
        if (s == null) {
            try {
                s = collect(ConfigProvider.getConfig());
            } catch (RuntimeException | LinkageError notYet) {
                return List.of(); // configuration not readable yet: nothing configured to hide
            }
            secrets = s;
        }
        return s;
    }

    /** The values of Tributary's secret settings: passwords, secrets, JAAS settings, keys. */
    static List<String> collect(Config config) {
        List<String> s = new ArrayList<>();
        for (String name : config.getPropertyNames()) {
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            // Tributary's own settings only: framework defaults hold words, not secrets.
            if ((lower.startsWith("tributary.") || lower.startsWith("tributary_")) && (lower.contains("password")
                    || lower.contains("secret") || lower.contains("jaas") || lower.contains("crypto.keys.")
                    || lower.contains("crypto_keys_"))) {
                config.getOptionalValue(name, String.class).filter(v -> v.length() >= 4).ifPresent(s::add);
            }
        }
        return s;
    }

    static String redact(String text, List<String> secrets) {
        String out = text;
        for (String secret : secrets) {
            if (out.contains(secret)) {
                out = out.replace(secret, MASK);
            }
        }
        return out;
    }

    private static boolean mentions(Throwable t, List<String> secrets) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (m != null && !redact(m, secrets).equals(m)) {
                return true;
            }
        }
        return false;
    }

    /** The same chain of exceptions by type and stack, with secrets taken out of their messages. */
    private static Throwable cleaned(Throwable t, List<String> secrets) {
        Throwable cause = t.getCause() == null || t.getCause() == t ? null : cleaned(t.getCause(), secrets);
        Throwable copy = new RedactedException(t.getClass().getName() + ": "
                + redact(String.valueOf(t.getMessage()), secrets), cause);
        copy.setStackTrace(t.getStackTrace());
        return copy;
    }

    /** Stands in for an exception whose message named a secret. */
    static final class RedactedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RedactedException(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }
}
