package tributary.spool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Writes a sealed spool segment in the spool's own format, as a replica would have left it. */
public final class SpoolFiles {

    private SpoolFiles() {
    }

    public static Path writeSegment(Path dir, long sequence, List<Spool.Entry> entries) throws IOException {
        Path segment = dir.resolve(String.format("seg-%020d.seg", sequence));
        Path tmp = dir.resolve(String.format("tmp-%020d", sequence));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer frames = Spool.encode(entries);
            while (frames.hasRemaining()) {
                ch.write(frames);
            }
            ch.force(true);
        }
        return java.nio.file.Files.move(tmp, segment, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
