package tributary.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * An exclusive lock on the spool root, held for the life of the process: two processes on one spool would recover
 * and replay each other's live segments. The lock file names its holder, so the second process can say who it is.
 */
public final class SpoolLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private SpoolLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Spool roots locked by this process: a second lock on one file from the same process would release the first. */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Path held;

    /** Takes the lock or fails naming the directory and its holder. */
    public static SpoolLock acquire(Path root, String holder) throws IOException {
        OwnerOnly.createDirectories(root);
        Path file = root.resolve(".lock");
        Path key = root.toRealPath();
        if (!HELD.add(key)) {
            throw inUse(root, file);
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw inUse(root, file);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(("node " + holder + ", pid " + ProcessHandle.current().pid() + ", since "
                    + Instant.now()).getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
            SpoolLock taken = new SpoolLock(channel, lock);
            taken.held = key;
            channel = null;
            return taken;
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            throw e;
        } finally {
            if (channel != null) {
                channel.close();
            }
        }
    }

    private static IllegalStateException inUse(Path root, Path file) throws IOException {
        String who = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : "";
        return new IllegalStateException("tributary.spool.dir " + root.toAbsolutePath() + " is in use by another "
                + "process (" + (who.isEmpty() ? "unknown holder" : who) + "); every replica needs a spool "
                + "directory of its own");
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
            HELD.remove(held);
        }
    }
}
