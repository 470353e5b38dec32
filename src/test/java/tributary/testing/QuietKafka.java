package tributary.testing;

import java.util.logging.Level;

import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.jboss.logmanager.handlers.ConsoleHandler;

/**
 * Starts the test broker with warnings only. On the test class path Kafka logs through the JBoss log manager, which
 * unconfigured logs everything down to DEBUG: the broker rendered every request and response as JSON for a log
 * nobody reads, taking CPU from the servers and pipeline it shares two cores with.
 */
public final class QuietKafka {

    private QuietKafka() {
    }

    public static void main(String[] args) throws Exception {
        org.jboss.logmanager.Logger root = LogContext.getSystemLogContext().getLogger("");
        root.setLevel(Level.WARNING);
        ConsoleHandler console = new ConsoleHandler(new PatternFormatter("%d{HH:mm:ss,SSS} %-5p [%c] %s%e%n"));
        root.addHandler(console);
        Class.forName("kafka.Kafka").getMethod("main", String[].class).invoke(null, (Object) args);
    }
}
