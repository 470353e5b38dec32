package tributary.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.jboss.logging.Logger;

/**
 * Which slices of an outbox's key space this replica claims. The replicas of a pipeline share the slices out as
 * PostgreSQL session advisory locks on one connection each: a slice is owned by one replica at a time, so every
 * version of a key is claimed, and published, by one replica, in id order. A replica that dies loses its locks with
 * its connection; one that joins takes its share as the others give theirs up.
 *
 * <p>Taking a slice over keeps order across the hand-over. The new owner claims from it only once (1) every claim
 * that read the old ownership has committed: claims hold their slices shared in a gate lock, which the new owner
 * must take exclusively once; and (2) no row of the slice is in flight: none PROCESSING (claimed by the previous
 * owner, published or not; they come back through their ack or their lease) and none SPOOLED (in a replica's
 * enqueue spool). Rows this node's previous process left PROCESSING are handed back at once, not after their lease.
 *
 * <p>Each claim also reads the ownership from the lock table as it runs, so a replica whose ownership session died
 * claims nothing from the slices it held, even before it notices.
 */
public final class KeySlices implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(KeySlices.class);

    /**
     * Takes the claim's slices shared in the hand-over gate, until the claim's transaction ends; and, in the same
     * round trip, sets the claim's plan as {@link OutboxSql#CLAIM_PLAN} does.
     */
    static final String GATE_SHARED = "SELECT pg_advisory_xact_lock_shared(?, s), set_config('enable_bitmapscan', "
            + "'off', true) FROM unnest(CAST(? AS int[])) s";

    /** The second lock key of a replica's membership: above every slice, and naming its number of slices. */
    private static final int MEMBER = 1_000_000;

    /** Opens a connection of its own (not a pooled one: closing it must end the session and its locks). */
    public interface Session {
        Connection open() throws SQLException;
    }

    /** What a claim needs: the slices ready to claim, and the lock that proves the ownership of each. */
    public record View(int[] ready, int keySlices, int ownerKey, int gateKey, int ownerPid, long generation) {
    }

    private final String pipeline;
    private final Session session;
    private final OutboxStore outbox;
    private final int keySlices;
    private final int ownerKey;
    private final int gateKey;
    private final String configKey;

    private Connection c;
    private int pid;
    private Timestamp started;
    private final TreeSet<Integer> owned = new TreeSet<>();
    private final TreeSet<Integer> pending = new TreeSet<>();
    private final TreeSet<Integer> ready = new TreeSet<>();
    private volatile View view;
    private long generation;
    private String lastState = "";
    private String lastProblem = "";

    /**
     * @param session opens the connection to the outbox's database that holds the locks, as long as it lives
     * @param table the outbox table and aggregate, which name the locks (so two pipelines on one table never share)
     * @param configKey the key of the number of slices, for messages
     */
    public KeySlices(String pipeline, Session session, OutboxStore outbox, String table, int keySlices,
            String configKey) {
        this.pipeline = pipeline;
        this.session = session;
        this.outbox = outbox;
        this.keySlices = keySlices;
        this.configKey = configKey;
        this.ownerKey = ("tributary-key-slices:" + table).hashCode() & 0x7fffffff;
        this.gateKey = ("tributary-key-slices-gate:" + table).hashCode() & 0x7fffffff;
        this.view = new View(new int[0], keySlices, ownerKey, gateKey, 0, 0);
    }

    /** The slices the claims of this replica may take now. */
    public View view() {
        return view;
    }

    /**
     * Keeps this replica's share: joins (first call), gives slices up beyond its fair share, takes free ones up to
     * it, and makes the slices it took ready once nothing of theirs is in flight. Run about every second. A failure
     * drops every slice (the session may be gone and its locks with it) and is thrown; the next call starts over.
     */
    public synchronized void tick(Duration lease) throws SQLException {
        try {
            if (c == null) {
                join();
            }
            Map<Integer, Integer> holders = new TreeMap<>();
            Set<Integer> members = new HashSet<>();
            Set<Integer> otherSlices = new TreeSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT CAST(objid AS int), pid FROM pg_locks WHERE "
                    + "locktype = 'advisory' AND granted AND objsubid = 2 AND CAST(classid AS bigint) = ? AND database = "
                    + "(SELECT oid FROM pg_database WHERE datname = current_database())")) {
                ps.setLong(1, ownerKey);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int key = rs.getInt(1);
                        if (key >= MEMBER) {
                            members.add(rs.getInt(2));
                            if (key != MEMBER + keySlices) {
                                otherSlices.add(key - MEMBER);
                            }
                        } else {
                            holders.put(key, rs.getInt(2));
                        }
                    }
                }
            }
            if (!otherSlices.isEmpty()) {
                problem(configKey + " differs between replicas (here " + keySlices + ", elsewhere " + otherSlices
                        + "): a key may then be claimed by two replicas and reach the topic out of order; set the same "
                        + "value on every replica");
            }
            // Locks this session no longer holds (they cannot go while it lives, but the lock table is the truth).
            owned.removeIf(s -> !Integer.valueOf(pid).equals(holders.get(s)));
            pending.retainAll(owned);
            ready.retainAll(owned);
            int fair = (keySlices + Math.max(1, members.size()) - 1) / Math.max(1, members.size());
            while (owned.size() > fair) {
                int s = owned.last();
                // Out of the claims first: the view no longer has it when the lock goes.
                owned.remove(s);
                pending.remove(s);
                ready.remove(s);
                publish();
                advisory("SELECT pg_advisory_unlock(?, ?)", ownerKey, s);
            }
            for (int s = 0; s < keySlices && owned.size() < fair; s++) {
                if (!holders.containsKey(s) && advisory("SELECT pg_try_advisory_lock(?, ?)", ownerKey, s)) {
                    owned.add(s);
                    pending.add(s);
                }
            }
            if (!pending.isEmpty()) {
                prepare(lease);
            }
            publish();
            String state = "owns " + owned.size() + " of " + keySlices + " key slices (" + members.size()
                    + " replica(s))" + (pending.isEmpty() ? "" : ", " + pending.size() + " waiting for rows in flight");
            if (!state.equals(lastState)) {
                LOG.infof("pipeline %s: %s", pipeline, state);
                lastState = state;
            }
        } catch (SQLException | RuntimeException e) {
            dropAll();
            throw e;
        }
    }

    /** Opens the session and joins as a member, naming the number of slices this replica uses. */
    private void join() throws SQLException {
        c = session.open();
        c.setAutoCommit(true);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_backend_pid(), now()");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            pid = rs.getInt(1);
            if (started == null) {
                // Claims of this node before this instant are its previous process's.
                started = rs.getTimestamp(2);
            }
        }
        advisory("SELECT pg_advisory_lock_shared(?, ?)", ownerKey, MEMBER + keySlices);
    }

    /**
     * Slices just taken become ready when no claim that read the old ownership is still open and none of their
     * rows is in flight.
     */
    private void prepare(Duration lease) throws SQLException {
        java.util.List<Integer> open = new java.util.ArrayList<>();
        for (int s : pending) {
            if (advisory("SELECT pg_try_advisory_lock(?, ?)", gateKey, s)) {
                advisory("SELECT pg_advisory_unlock(?, ?)", gateKey, s);
                open.add(s);
            }
        }
        int[] gated = open.stream().mapToInt(Integer::intValue).toArray();
        if (gated.length == 0) {
            return;
        }
        outbox.releaseStale(gated, keySlices, started);
        outbox.reclaimExpired(lease);
        Set<Integer> busy = outbox.slicesInFlight(gated, keySlices);
        for (int s : gated) {
            if (!busy.contains(s)) {
                pending.remove(s);
                ready.add(s);
            }
        }
    }

    private void publish() {
        int[] now = ready.stream().mapToInt(Integer::intValue).toArray();
        if (!Arrays.equals(now, view.ready()) || view.ownerPid() != pid) {
            view = new View(now, keySlices, ownerKey, gateKey, pid, ++generation);
        }
    }

    private boolean advisory(String sql, int key1, int key2) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, key1);
            ps.setInt(2, key2);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && !Boolean.FALSE.equals(rs.getObject(1));
            }
        }
    }

    private void problem(String message) {
        if (!message.equals(lastProblem)) {
            LOG.errorf("pipeline %s: %s", pipeline, message);
            lastProblem = message;
        }
    }

    private void dropAll() {
        owned.clear();
        pending.clear();
        ready.clear();
        view = new View(new int[0], keySlices, ownerKey, gateKey, 0, ++generation);
        lastState = "";
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the session is gone already
            }
            c = null;
        }
    }

    /** Gives every slice up (the session's locks go with it). */
    @Override
    public synchronized void close() {
        dropAll();
    }
}
