package tributary.testing;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import tributary.testing.OutboxWriter.Change;

/** Streams changes into an outbox in small transactions at a steady pace, in the background. */
public final class Load {

    private final CompletableFuture<Void> done;
    private final AtomicInteger written = new AtomicInteger();

    private Load(OutboxWriter writer, boolean debezium, String aggregate, List<Change> changes, int batch, long pauseMs) {
        done = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < changes.size(); i += batch) {
                    List<Change> slice = changes.subList(i, Math.min(changes.size(), i + batch));
                    if (debezium) {
                        writer.debezium(aggregate, slice);
                    } else {
                        writer.tributary(aggregate, slice);
                    }
                    written.addAndGet(slice.size());
                    Thread.sleep(pauseMs);
                }
            } catch (Exception e) {
                throw new IllegalStateException("load stopped after " + written.get() + " rows", e);
            }
        });
    }

    /** {@code changes} into the Tributary-layout outbox, {@code batch} rows per transaction, a pause between. */
    public static Load start(OutboxWriter writer, String aggregate, List<Change> changes, int batch, long pauseMs) {
        return new Load(writer, false, aggregate, changes, batch, pauseMs);
    }

    public int written() {
        return written.get();
    }

    public boolean isDone() {
        return done.isDone();
    }

    public void await() {
        done.join();
    }
}
