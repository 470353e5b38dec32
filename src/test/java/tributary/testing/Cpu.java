package tributary.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of processes and threads, from /proc (Linux), in seconds. */
public final class Cpu {

    private Cpu() {
    }

    /** User + system seconds of a process or thread so far, from its /proc stat file. */
    public static double seconds(Path stat) throws IOException {
        long[] f = fields(stat);
        return (f[0] + f[1]) / 100.0;
    }

    /**
     * User + system seconds of a process and every child it has or had: the children it reaped (a server's
     * ended connections) count through its own stat, the living ones are read one by one.
     */
    public static double ofTree(long pid) throws IOException {
        long[] own = fields(Path.of("/proc", Long.toString(pid), "stat"));
        long ticks = own[0] + own[1] + own[2] + own[3];
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    long[] f = fields(p.resolve("stat"));
                    if (f[4] == pid) {
                        ticks += f[0] + f[1];
                    }
                } catch (IOException ended) {
                    // a process that ended between the listing and the read: its parent reaped its time
                }
            }
        }
        return ticks / 100.0;
    }

    /** utime, stime, cutime, cstime (clock ticks, 1/100 s) and the parent's pid. */
    private static long[] fields(Path stat) throws IOException {
        String line = Files.readString(stat);
        String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
        // stat's fields 4 (ppid) and 14 to 17 (utime, stime, cutime, cstime), counted after the command name.
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14]),
            Long.parseLong(f[1])};
    }
}
