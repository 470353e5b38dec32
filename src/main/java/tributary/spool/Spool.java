package tributary.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import org.jboss.logging.Logger;

/**
 * An append-only disk spool for one target: segment files of framed records, {@code [int length][int crc32c]
 * [entry]}, ciphertext only. {@link #append} returns only after fsync, so a caller may acknowledge upstream.
 * The open segment ({@code seg-N.open}) is sealed by an atomic rename to {@code seg-N.seg} when it reaches its
 * size or age; replay reads sealed segments oldest first and deletes each after its target committed it. On
 * start-up a torn last record (a crash mid-write, never acknowledged) is cut off; a record whose checksum fails is
 * moved to {@code quarantine/} and counted, never silently dropped.
 */
public final class Spool {

    private static final Logger LOG = Logger.getLogger(Spool.class);
    private static final int HEADER = 8;
    private static final int MAX_ENTRY = 64 * 1024 * 1024;

    /** One spooled record: business key, outbox id and the sealed record as it travels on Kafka. */
    public record Entry(String key, long outboxId, byte[] sealed) {
    }

    /** The spool is over its size limit: the caller must hold the data upstream. */
    public static final class SpoolFullException extends IOException {
        public SpoolFullException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final Path quarantine;
    private final long maxBytes;
    private final long segmentBytes;
    private final long segmentAgeNanos;
    private final AtomicLong quarantined = new AtomicLong();
    private final AtomicLong tornCut = new AtomicLong();
    private final List<Path> unsealed = new ArrayList<>();
    private String failure;
    private long failedAt;
    private FileChannel open;
    private Path openPath;
    private long openSize;
    private long openedAt;
    private long nextSequence;

    public Spool(Path dir, long maxBytes, long segmentBytes, Duration segmentAge) throws IOException {
        this.dir = dir;
        this.quarantine = dir.resolve("quarantine");
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.segmentAgeNanos = segmentAge.toNanos();
        recover();
    }

    public Path dir() {
        return dir;
    }

    /** Seals segments a crash left open, cutting off a torn last record. */
    private synchronized void recover() throws IOException {
        OwnerOnly.createDirectories(dir);
        long max = 0;
        for (Path p : list(".open")) {
            cutTornTail(p);
            Files.move(p, sealedName(p), StandardCopyOption.ATOMIC_MOVE);
        }
        for (Path p : list(".seg")) {
            max = Math.max(max, sequence(p));
        }
        nextSequence = max + 1;
    }

    /**
     * Cuts an incomplete last frame off a segment (a crash mid-append: never acknowledged). The cut bytes are kept
     * in quarantine first, so that even a corrupt length field in the middle loses nothing silently.
     */
    private void cutTornTail(Path p) throws IOException {
        long valid = validPrefix(p);
        long size = Files.size(p);
        if (valid < size) {
            tornCut.incrementAndGet();
            byte[] bytes = Files.readAllBytes(p);
            quarantine(p, (int) valid, bytes, bytes.length, "torn last record (a crash mid-write) cut off");
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(valid);
                ch.force(true);
            }
        }
    }

    /** Length of the prefix made of complete frames (checksums are checked on read, not here). */
    private static long validPrefix(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            long pos = 0;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            while (pos + HEADER <= size) {
                header.clear();
                ch.read(header, pos);
                int length = header.getInt(0);
                if (length < 0 || length > MAX_ENTRY || pos + HEADER + length > size) {
                    break;
                }
                pos += HEADER + length;
            }
            return pos;
        }
    }

    /** Appends entries and fsyncs; throws {@link SpoolFullException} when they would pass the size limit. */
    public synchronized void append(List<Entry> entries) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        ByteBuffer frames = encode(entries);
        long size = bytesOnDisk();
        if (size + frames.remaining() > maxBytes) {
            SpoolFullException full = new SpoolFullException("spool " + dir + " is full: " + size + " of " + maxBytes
                    + " bytes used");
            failed(full);
            throw full;
        }
        if (open == null) {
            openPath = dir.resolve(String.format("seg-%020d.open", nextSequence++));
            try {
                open = OwnerOnly.create(openPath);
            } catch (IOException e) {
                failed(e);
                throw e;
            }
            openSize = 0;
            openedAt = System.nanoTime();
            forceDirectory();
        }
        try {
            while (frames.hasRemaining()) {
                openSize += open.write(frames);
            }
            open.force(false);
        } catch (IOException e) {
            // The frames may be half written: seal what is there; the torn tail is cut off when it is sealed.
            failed(e);
            try {
                closeOpen();
            } catch (IOException notSealed) {
                e.addSuppressed(notSealed);
            }
            throw e;
        }
        failure = null;
        if (openSize >= segmentBytes) {
            seal();
        }
    }

    private void failed(IOException e) {
        failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        failedAt = System.nanoTime();
    }

    /**
     * Whether the spool takes writes. After a failed append it says no until a check, at most once a second, finds
     * the directory writable and under the size limit again.
     */
    public synchronized boolean acceptsWrites() {
        if (failure == null) {
            return true;
        }
        long now = System.nanoTime();
        if (now - failedAt < 1_000_000_000L) {
            return false;
        }
        failedAt = now;
        try {
            // Room for a whole segment again, so one batch does not flip it straight back to full.
            if (Files.isDirectory(dir) && Files.isWritable(dir)
                    && bytesOnDisk() + Math.min(segmentBytes, maxBytes / 4) <= maxBytes) {
                failure = null;
                return true;
            }
        } catch (IOException stillBroken) {
            // keep the first failure as the reason
        }
        return false;
    }

    /** Why the last append failed, while the spool does not take writes; null when it does. */
    public synchronized String failure() {
        return failure;
    }

    /**
     * Seals the open segment when it is old enough, so replay can take it, and retries segments whose sealing
     * failed before (they would otherwise wait for a restart).
     */
    public synchronized void sealIfAged() throws IOException {
        if (open != null && System.nanoTime() - openedAt >= segmentAgeNanos) {
            seal();
        }
        for (Path p : List.copyOf(unsealed)) {
            if (!Files.exists(p)) {
                unsealed.remove(p);
                continue;
            }
            cutTornTail(p);
            Files.move(p, sealedName(p), StandardCopyOption.ATOMIC_MOVE);
            unsealed.remove(p);
            forceDirectory();
        }
    }

    /** Segments left open after a failed seal, waiting for the next attempt. */
    public synchronized List<Path> unsealed() {
        return List.copyOf(unsealed);
    }

    /** At shutdown: seals the open segment so that whichever process takes over this directory replays it at once. */
    public synchronized void close() throws IOException {
        seal();
        sealIfAged();
    }

    private void seal() throws IOException {
        closeOpen();
        forceDirectory();
    }

    private void closeOpen() throws IOException {
        if (open == null) {
            return;
        }
        Path path = openPath;
        try {
            open.close();
        } finally {
            open = null;
            try {
                if (Files.exists(path)) {
                    cutTornTail(path);
                    Files.move(path, sealedName(path), StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (IOException e) {
                // Replay only takes sealed segments: keep this one on the list and seal it on the next tick.
                unsealed.add(path);
                throw e;
            }
        }
    }

    private void forceDirectory() {
        forceDirectory(dir);
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException notSupported) {
            // Some file systems cannot fsync a directory; the rename is still atomic.
        }
    }

    /** Sealed segments, oldest first. */
    public List<Path> segments() throws IOException {
        return list(".seg");
    }

    /**
     * Reads a sealed segment. A frame whose checksum fails, or a torn tail, is copied to {@code quarantine/} and
     * counted; the readable entries are returned.
     */
    public List<Entry> read(Path segment) throws IOException {
        byte[] bytes = Files.readAllBytes(segment);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        List<Entry> entries = new ArrayList<>();
        while (buf.remaining() > 0) {
            int start = buf.position();
            if (buf.remaining() < HEADER) {
                quarantine(segment, start, bytes, bytes.length, "torn header");
                break;
            }
            int length = buf.getInt();
            int crc = buf.getInt();
            if (length < 0 || length > buf.remaining()) {
                quarantine(segment, start, bytes, bytes.length, "torn or corrupt length");
                break;
            }
            CRC32C check = new CRC32C();
            check.update(bytes, buf.position(), length);
            if ((int) check.getValue() != crc) {
                quarantine(segment, start, bytes, buf.position() + length, "checksum mismatch");
                buf.position(buf.position() + length);
                continue;
            }
            entries.add(decode(ByteBuffer.wrap(bytes, buf.position(), length).slice()));
            buf.position(buf.position() + length);
        }
        return entries;
    }

    /** Deletes a segment once its target committed every entry. */
    public void delete(Path segment) throws IOException {
        Files.deleteIfExists(segment);
    }

    private void quarantine(Path segment, int from, byte[] bytes, int to, String why) throws IOException {
        OwnerOnly.createDirectories(quarantine);
        // Unique and durable: the segment it came from may be deleted right after.
        Path bad = quarantine.resolve(segment.getFileName() + "-" + from + "-" + System.nanoTime() + ".bad");
        try (FileChannel ch = OwnerOnly.create(bad)) {
            ByteBuffer data = ByteBuffer.wrap(bytes, from, to - from);
            while (data.hasRemaining()) {
                ch.write(data);
            }
            ch.force(true);
        }
        forceDirectory(quarantine);
        quarantined.incrementAndGet();
        LOG.errorf("spool %s: %s in %s at byte %d; %d bytes quarantined in %s", dir, why, segment.getFileName(), from,
                to - from, bad);
    }

    public long quarantinedRecords() {
        return quarantined.get();
    }

    public long tornRecordsCut() {
        return tornCut.get();
    }

    /** Bytes in all segments, open and sealed. */
    public long bytesOnDisk() throws IOException {
        long total = 0;
        for (String suffix : List.of(".seg", ".open")) {
            for (Path p : list(suffix)) {
                try {
                    total += Files.size(p);
                } catch (java.nio.file.NoSuchFileException replayedMeanwhile) {
                    // deleted or renamed by replay between listing and sizing
                }
            }
        }
        return total;
    }

    /** Like {@link #isEmpty()}, but a spool that cannot even be listed counts as not empty. */
    public boolean isEmptyQuietly() {
        try {
            return isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether anything waits for replay (sealed or open). */
    public synchronized boolean isEmpty() throws IOException {
        return open == null && unsealed.isEmpty() && segments().isEmpty();
    }

    private List<Path> list(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("seg-") && p.getFileName().toString().endsWith(suffix))
                    .sorted().toList();
        }
    }

    private static Path sealedName(Path open) {
        String name = open.getFileName().toString();
        return open.resolveSibling(name.substring(0, name.length() - ".open".length()) + ".seg");
    }

    private static long sequence(Path p) {
        String name = p.getFileName().toString();
        return Long.parseLong(name.substring(4, name.indexOf('.')));
    }

    static ByteBuffer encode(List<Entry> entries) {
        int size = 0;
        List<byte[]> keys = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            byte[] key = e.key().getBytes(StandardCharsets.UTF_8);
            keys.add(key);
            size += HEADER + 2 + key.length + 8 + 4 + e.sealed().length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        CRC32C crc = new CRC32C();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            byte[] key = keys.get(i);
            int length = 2 + key.length + 8 + 4 + e.sealed().length;
            int start = buf.position();
            buf.putInt(length).putInt(0);
            buf.putShort((short) key.length).put(key).putLong(e.outboxId()).putInt(e.sealed().length).put(e.sealed());
            crc.reset();
            crc.update(buf.array(), start + HEADER, length);
            buf.putInt(start + 4, (int) crc.getValue());
        }
        return buf.flip();
    }

    private static Entry decode(ByteBuffer b) {
        byte[] key = new byte[b.getShort() & 0xffff];
        b.get(key);
        long id = b.getLong();
        byte[] sealed = new byte[b.getInt()];
        b.get(sealed);
        return new Entry(new String(key, StandardCharsets.UTF_8), id, sealed);
    }
}
