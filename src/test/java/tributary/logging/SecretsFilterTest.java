package tributary.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;

import java.util.Map;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/** Configured secrets leave log records as *** — in the message and in the exception chain — and nothing else does. */
class SecretsFilterTest {

    private static final String PASSWORD = "source-db-password-4711";

    @Test
    void secretsInMessagesAndExceptionsAreMasked() {
        SecretsFilter filter = new SecretsFilter(new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(
                Map.of("tributary.datasources.core.password", PASSWORD, "quarkus.some.password-parameter", "password",
                        "tributary.datasources.core.username", "app"), "test", 100)).build());

        ExtLogRecord record = new ExtLogRecord(Level.SEVERE, "store failed: {password=%s, user=app}",
                ExtLogRecord.FormatStyle.PRINTF, SecretsFilterTest.class.getName());
        record.setParameters(new Object[] { PASSWORD });
        record.setThrown(new IllegalStateException("config {offset.storage.jdbc.connection.password=" + PASSWORD + "}",
                new RuntimeException("cause mentions " + PASSWORD)));
        assertTrue(filter.isLoggable(record));

        assertEquals("store failed: {password=***, user=app}", record.getFormattedMessage());
        Throwable t = record.getThrown();
        assertFalse(t.toString().contains(PASSWORD), t.toString());
        assertTrue(t.toString().contains("java.lang.IllegalStateException: config {offset.storage.jdbc.connection.password=***}"));
        assertFalse(t.getCause().toString().contains(PASSWORD));
        assertTrue(t.getStackTrace().length > 0, "the stack is kept");

        // Words that are not configured secrets stay, even a framework default that happens to be "password".
        ExtLogRecord plain = new ExtLogRecord(Level.INFO, "using password: YES", ExtLogRecord.FormatStyle.NO_FORMAT,
                SecretsFilterTest.class.getName());
        assertTrue(filter.isLoggable(plain));
        assertEquals("using password: YES", plain.getFormattedMessage());
    }
}
