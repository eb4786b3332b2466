package io.github.rseq4j.stress;

import io.github.rseq4j.internal.memory.NodeArena;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The nodes of the list and buffer scenarios: each carries a unique id, a check word and a
 * "held" flag that a worker sets (atomically) while it owns the node, so that a node
 * handed to two workers at once is caught when it happens, not only in the final count.
 */
final class StressNodes {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final long ID = NodeArena.PAYLOAD_OFFSET;
    private static final long CHECK = ID + 8;
    private static final long HELD = ID + 16;
    private static final long MAGIC = 0x5EED_0F_C0FFEE_5EL;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    final NodeArena arena = new NodeArena(24);
    final int count;
    final long[] addresses;

    /** {@code count} nodes with ids 0 to count - 1. */
    StressNodes(int count) {
        this.count = count;
        this.addresses = new long[count];
        for (int id = 0; id < count; id++) {
            long n = arena.allocate();
            ALL.set(ValueLayout.JAVA_LONG, n + ID, id);
            ALL.set(ValueLayout.JAVA_LONG, n + CHECK, id ^ MAGIC);
            LONG.setVolatile(ALL, n + HELD, 0L);
            addresses[id] = n;
        }
    }

    /** The id of node {@code n}, or a message when {@code n} is not an intact node of this set. */
    Object id(long n) {
        if (!arena.isNode(n)) {
            return "address 0x" + Long.toHexString(n) + " is not a node";
        }
        long id = ALL.get(ValueLayout.JAVA_LONG, n + ID);
        long check = ALL.get(ValueLayout.JAVA_LONG, n + CHECK);
        if (id < 0 || id >= count || check != (id ^ MAGIC) || addresses[(int) id] != n) {
            return "node 0x" + Long.toHexString(n) + " is corrupt (id " + id + ", check " + Long.toHexString(check) + ")";
        }
        return (int) id;
    }

    /** Takes node {@code n} for the caller: null, or why it cannot (not a node, already held). */
    String claim(long n) {
        Object id = id(n);
        if (!(id instanceof Integer)) {
            return (String) id;
        }
        if (!LONG.compareAndSet(ALL, n + HELD, 0L, 1L)) {
            return "node " + id + " was handed to two workers at once";
        }
        return null;
    }

    /** Gives node {@code n} back before it is pushed (release ordering). */
    void release(long n) {
        LONG.setRelease(ALL, n + HELD, 0L);
    }

    /** Whether node {@code n} is held by a worker. */
    boolean held(long n) {
        return (long) LONG.getVolatile(ALL, n + HELD) != 0L;
    }

    /**
     * Counts a census of nodes found in the structure: each id must appear exactly once.
     */
    static final class Census {
        private final StressNodes nodes;
        private final int[] seen;
        long bad;
        long duplicates;
        String firstProblem;

        Census(StressNodes nodes) {
            this.nodes = nodes;
            this.seen = new int[nodes.count];
        }

        void add(long n) {
            Object id = nodes.id(n);
            if (!(id instanceof Integer i)) {
                bad++;
                if (firstProblem == null) {
                    firstProblem = (String) id;
                }
                return;
            }
            if (nodes.held(n)) {
                bad++;
                if (firstProblem == null) {
                    firstProblem = "node " + i + " is in the structure but marked held";
                }
            }
            if (seen[i]++ > 0) {
                duplicates++;
                if (firstProblem == null) {
                    firstProblem = "node " + i + " found " + seen[i] + " times";
                }
            }
        }

        long distinct() {
            long d = 0;
            for (int s : seen) {
                d += s > 0 ? 1 : 0;
            }
            return d;
        }

        long missing() {
            return nodes.count - distinct();
        }

        /** Nodes marked held by a worker now (after the run: held by a worker that ended early). */
        long heldNow() {
            long h = 0;
            for (long n : nodes.addresses) {
                h += nodes.held(n) ? 1 : 0;
            }
            return h;
        }

        /**
         * Reports the census. After a run that ended early ({@code inFlight}), nodes that
         * workers still held are not lost: conservation is reported as not checked.
         */
        void report(Scenario.Verdict.Builder v, boolean inFlight) {
            String first = firstProblem == null ? "" : " (first: " + firstProblem + ")";
            v.detail("nodes", nodes.count).detail("found", distinct())
                    .detail("missing", missing()).detail("duplicates", duplicates).detail("bad", bad);
            if (inFlight) {
                v.detail("conservation", "not checked (" + heldNow() + " operations in flight)");
            } else {
                v.check(missing() == 0, missing() + " of " + nodes.count + " nodes lost");
            }
            v.check(duplicates == 0, duplicates + " nodes found more than once" + first);
            v.check(bad == 0, bad + " bad nodes" + first);
        }
    }
}
