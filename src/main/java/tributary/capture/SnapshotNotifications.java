package tributary.capture;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

import io.debezium.config.CommonConnectorConfig;
import io.debezium.pipeline.notification.Notification;
import io.debezium.pipeline.notification.channels.NotificationChannel;

/**
 * Receives the reader's snapshot notifications (started, table scanned, completed) for the pipeline whose reader
 * sends them; the reader finds this channel through the service loader, so pipelines register their progress here
 * by the reader's logical name (the slot name).
 */
public final class SnapshotNotifications implements NotificationChannel {

    static final String NAME = "tributary";
    private static final Logger LOG = Logger.getLogger(SnapshotNotifications.class);
    private static final Map<String, SnapshotProgress> PROGRESS = new ConcurrentHashMap<>();

    private String logicalName;

    static void register(String logicalName, SnapshotProgress progress) {
        PROGRESS.put(logicalName, progress);
    }

    @Override
    public void init(CommonConnectorConfig config) {
        this.logicalName = config.getLogicalName();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void send(Notification notification) {
        SnapshotProgress progress = PROGRESS.get(logicalName);
        if (progress == null || notification.getAggregateType() == null
                || !notification.getAggregateType().endsWith("Snapshot")) {
            return;
        }
        switch (String.valueOf(notification.getType())) {
            case "STARTED" -> progress.started();
            case "TABLE_SCAN_COMPLETED" -> {
                // A pipeline captures one table: its scan done is the snapshot done.
                LOG.infof("snapshot of %s complete: %s rows scanned (%s)",
                        notification.getAdditionalData().get("scanned_collection"),
                        notification.getAdditionalData().get("total_rows_scanned"),
                        notification.getAdditionalData().get("status"));
                progress.complete();
            }
            case "COMPLETED" -> progress.complete();
            case "ABORTED" -> progress.aborted();
            default -> {
            }
        }
    }

    @Override
    public void close() {
        // nothing held
    }
}
