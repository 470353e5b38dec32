package tributary.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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

    /** Takes the lock or fails naming the directory and its holder. */
    public static SpoolLock acquire(Path root, String holder) throws IOException {
        OwnerOnly.createDirectories(root);
        Path file = root.resolve(".lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            String who = Files.readString(file, StandardCharsets.UTF_8).trim();
            throw new IllegalStateException("tributary.spool.dir " + root.toAbsolutePath() + " is in use by another "
                    + "process (" + (who.isEmpty() ? "unknown holder" : who) + "); every replica needs a spool "
                    + "directory of its own");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(("node " + holder + ", pid " + ProcessHandle.current().pid() + ", since "
                + Instant.now()).getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new SpoolLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
