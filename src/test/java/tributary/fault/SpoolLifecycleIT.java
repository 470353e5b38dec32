package tributary.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import tributary.testing.Changes;
import tributary.testing.OutboxWriter;
import tributary.testing.Ports;
import tributary.testing.Servers;
import tributary.testing.TributaryProcess;

/**
 * A replica's spool over its life, with Tributary as a child process: rows whose data only a primary spool holds
 * are not DONE, and reach the primary even when that spool is lost; a graceful stop seals open segments; two
 * processes never share a spool.
 */
class SpoolLifecycleIT {

    private final Servers s = Servers.get();
    private final OutboxWriter writer = new OutboxWriter(s.source);

    private Map<String, String> config(String name, Path spool) throws Exception {
        OutboxWriter.createOutbox(s.source);
        Map<String, String> c = TributaryProcess.baseConfig(s);
        c.put("tributary.node-id", name + "-1");
        c.put("tributary.spool.dir", spool.toString());
        c.put("tributary.health.interval", "300ms");
        String p = "tributary.pipelines." + name + ".";
        c.put(p + "source.datasource", "source");
        c.put(p + "source.aggregate", name);
        c.put(p + "target.datasource", "primary");
        c.put(p + "target.table", name + "_orders");
        c.put(p + "topic", "tributary." + name);
        c.put(p + "lease", "5s");
        c.put(p + "retention.done", "1h");
        return c;
    }

    private long count(String sql, Object... binds) throws Exception {
        return Long.parseLong(OutboxWriter.query(s.source, sql, binds));
    }

    private static Path log(String name) {
        return Path.of("target", "spool-lifecycle", name + ".log").toAbsolutePath();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static List<String> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).toList();
        }
    }

    @Test
    void rowsParkedInALostPrimarySpoolStillReachThePrimary() throws Exception {
        Path spool = Files.createTempDirectory(s.dir, "parked-spool");
        Map<String, String> c = config("parked", spool);
        c.put("tributary.pipelines.parked.ack-timeout", "8s");
        List<OutboxWriter.Change> changes = Changes.generate("parked-", 1_500, new Random(5)).subList(0, 3_000);
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log("parked"), c, Ports.free())) {
            tributary.start();
            s.primary.stop();
            try {
                writer.tributary("parked", changes);
                // Synced into the primary spool only: PARKED, never DONE.
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertEquals(3_000,
                        count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'parked' AND status = 'PARKED'")));
                assertEquals(0, count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'parked' "
                        + "AND status IN ('DONE', 'DEAD')"), "nothing is DONE that the primary does not have");
                Path primarySpool = spool.resolve("parked").resolve("primary");
                assertTrue(files(primarySpool, ".seg").size() + files(primarySpool, ".open").size() > 0,
                        "the primary spool holds the records");
                // The replica goes away with its volume.
                tributary.stop();
                deleteTree(spool);
            } finally {
                s.primary.start();
            }
            assertEquals(0, count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'parked' AND status = 'DONE'"));
            tributary.start();
            String expected = writer.expected("parked-");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "parked_orders", "parked-")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(3_000,
                    count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'parked' AND status = 'DONE'")));
        }
    }

    @Test
    void aGracefulStopSealsOpenSegmentsAndASecondProcessCannotShareTheSpool() throws Exception {
        Path spool = Files.createTempDirectory(s.dir, "sealed-spool");
        Map<String, String> c = config("sealed", spool);
        // Segments would stay open for an hour: only the stop seals them.
        c.put("tributary.spool.segment-age", "1h");
        List<OutboxWriter.Change> changes = Changes.generate("sealed-", 1_000, new Random(6)).subList(0, 2_000);
        Path enqueue = spool.resolve("sealed").resolve("enqueue");
        try (TributaryProcess tributary = new TributaryProcess(TributaryProcess.defaultJar(), log("sealed"), c, Ports.free())) {
            tributary.start();

            Map<String, String> second = new java.util.TreeMap<>(c);
            second.put("tributary.node-id", "sealed-2");
            TributaryProcess intruder = new TributaryProcess(TributaryProcess.defaultJar(), log("sealed-intruder"), second,
                    Ports.free());
            IllegalStateException refused = assertThrows(IllegalStateException.class, intruder::start);
            assertTrue(refused.getMessage().contains("exited"), refused.getMessage());
            String intruderLog = Files.readString(log("sealed-intruder"));
            assertTrue(intruderLog.contains(spool.toAbsolutePath() + " is in use by another process")
                    && intruderLog.contains("node sealed-1"), "start-up names the directory and the holder");

            s.kafka.kill();
            try {
                writer.tributary("sealed", changes);
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertEquals(2_000,
                        count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'sealed' AND status = 'SPOOLED'")));
                assertEquals(1, files(enqueue, ".open").size(), "one open segment holds the records");
                assertEquals("rw-------", PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(enqueue.resolve(files(enqueue, ".open").get(0)))));
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(enqueue)));
                tributary.stop();
                Integer exit = tributary.exitCode(Duration.ofSeconds(5));
                assertNotNull(exit, "stopped");
                assertNotEquals(137, exit, "stopped gracefully, not killed");
                assertEquals(List.of(), files(enqueue, ".open"), "the stop sealed the open segment");
                assertEquals(1, files(enqueue, ".seg").size());
            } finally {
                s.kafka.start();
            }
            tributary.start();
            String expected = writer.expected("sealed-");
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertEquals(expected, OutboxWriter.actual(s.primary, "sealed_orders", "sealed-")));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertEquals(2_000,
                    count("SELECT count(*) FROM tributary_outbox WHERE aggregate = 'sealed' AND status = 'DONE'")));
        }
    }
}
