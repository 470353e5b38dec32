package tributary.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {

    @TempDir
    Path dir;

    private static List<Spool.Entry> entries(int from, int n) {
        List<Spool.Entry> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            out.add(new Spool.Entry("key-" + i, i, ("sealed-" + i).getBytes()));
        }
        return out;
    }

    @Test
    void appendsRotatesAndReadsOldestFirst() throws Exception {
        Spool spool = new Spool(dir, 1 << 20, 100, Duration.ofHours(1));
        assertTrue(spool.isEmpty());
        spool.append(entries(0, 3));
        spool.append(entries(3, 3));
        spool.append(entries(6, 1));
        spool.sealIfAged();
        List<Path> segments = spool.segments();
        assertTrue(segments.size() >= 2, "rotated by size: " + segments);
        List<Long> ids = new ArrayList<>();
        for (Path s : segments) {
            spool.read(s).forEach(e -> ids.add(e.outboxId()));
        }
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), ids, "the open segment is not replayed until sealed");
        Spool.Entry first = spool.read(segments.get(0)).get(0);
        assertEquals("key-0", first.key());
        assertArrayEquals("sealed-0".getBytes(), first.sealed());
        for (Path s : segments) {
            spool.delete(s);
        }
        assertFalse(spool.isEmpty(), "entry 6 is still in the open segment");
    }

    @Test
    void aSegmentWhoseSealingFailedIsSealedOnTheNextTick() throws Exception {
        Spool spool = new Spool(dir, 1 << 20, 1 << 20, Duration.ZERO);
        spool.append(entries(0, 2));
        // Something in the way of the rename: sealing fails.
        Path blocker = dir.resolve(String.format("seg-%020d.seg", 1));
        Files.createDirectories(blocker.resolve("in-the-way"));
        assertThrows(java.io.IOException.class, spool::sealIfAged);
        assertEquals(1, spool.unsealed().size(), "kept on the list, not forgotten until a restart");
        Files.delete(blocker.resolve("in-the-way"));
        Files.delete(blocker);
        spool.sealIfAged();
        assertEquals(List.of(), spool.unsealed());
        assertEquals(1, spool.segments().size());
        assertEquals(List.of(0L, 1L), spool.read(spool.segments().get(0)).stream().map(Spool.Entry::outboxId).toList());
    }

    @Test
    void filesAreOwnerOnlyAndCloseSealsTheOpenSegment() throws Exception {
        Spool spool = new Spool(dir.resolve("pipeline").resolve("enqueue"), 1 << 20, 1 << 20, Duration.ofHours(1));
        spool.append(entries(0, 1));
        try (var files = Files.list(spool.dir())) {
            Path open = files.filter(p -> p.toString().endsWith(".open")).findFirst().orElseThrow();
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(open)));
        }
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(spool.dir())));
        spool.close();
        assertEquals(1, spool.segments().size(), "sealed at shutdown");
    }

    @Test
    void agedSegmentsAreSealedForReplay() throws Exception {
        Spool spool = new Spool(dir, 1 << 20, 1 << 20, Duration.ZERO);
        spool.append(entries(0, 2));
        assertTrue(spool.segments().isEmpty());
        spool.sealIfAged();
        assertEquals(1, spool.segments().size());
        assertEquals(2, spool.read(spool.segments().get(0)).size());
    }

    @Test
    void refusesToGrowPastItsLimit() throws Exception {
        Spool spool = new Spool(dir, 150, 1 << 20, Duration.ofHours(1));
        spool.append(entries(0, 2));
        assertThrows(Spool.SpoolFullException.class, () -> spool.append(entries(2, 5)));
        assertEquals(2, count(spool, true));
    }

    @Test
    void aTornLastRecordIsCutOffAtStartUp() throws Exception {
        Spool crashed = new Spool(dir, 1 << 20, 1 << 20, Duration.ofHours(1));
        crashed.append(entries(0, 3));
        Path open = Files.list(dir).filter(p -> p.toString().endsWith(".open")).findFirst().orElseThrow();
        long complete = Files.size(open);
        // A crash while appending the next batch leaves half a frame behind.
        byte[] half = java.util.Arrays.copyOf(Spool.encode(entries(3, 1)).array(), 12);
        Files.write(open, half, StandardOpenOption.APPEND);

        Spool restarted = new Spool(dir, 1 << 20, 1 << 20, Duration.ofHours(1));
        assertEquals(1, restarted.tornRecordsCut());
        assertEquals(1, restarted.segments().size());
        assertEquals(complete, Files.size(restarted.segments().get(0)));
        assertEquals(3, restarted.read(restarted.segments().get(0)).size());
        assertEquals(1, restarted.quarantinedRecords(), "the cut bytes are kept in quarantine");
    }

    @Test
    void aRecordFailingItsChecksumIsQuarantinedAndCounted() throws Exception {
        Spool spool = new Spool(dir, 1 << 20, 1 << 20, Duration.ZERO);
        spool.append(entries(0, 3));
        spool.sealIfAged();
        Path segment = spool.segments().get(0);
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length / 2] ^= 0x55; // inside the second record
        Files.write(segment, bytes);
        List<Spool.Entry> read = spool.read(segment);
        assertEquals(List.of(0L, 2L), read.stream().map(Spool.Entry::outboxId).toList());
        assertEquals(1, spool.quarantinedRecords());
        try (var q = Files.list(dir.resolve("quarantine"))) {
            assertEquals(1, q.count());
        }
        // A sealed segment truncated mid-record: the readable records survive, the torn one is quarantined.
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
            ch.truncate(bytes.length - 4);
        }
        assertEquals(List.of(0L), spool.read(segment).stream().map(Spool.Entry::outboxId).toList());
        assertEquals(3, spool.quarantinedRecords());
    }

    private static int count(Spool spool, boolean sealOpen) throws Exception {
        if (sealOpen) {
            new Spool(spool.dir(), 1 << 20, 1 << 20, Duration.ZERO);
        }
        int n = 0;
        for (Path s : spool.segments()) {
            n += spool.read(s).size();
        }
        return n;
    }
}
