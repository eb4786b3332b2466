package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.abi.RingFormat;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.NodeArena;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.testsupport.Pinned;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.runtime.JitConstants;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Each generated operation against its Java twin ({@link PerCpuOperation#onStoppedSlice}):
 * two {@link SliceMemory}s (and two {@link NodeArena}s) are put in the same random state,
 * the generated critical section runs on one ({@link OperationSet#invoke}, on a thread
 * pinned to one CPU, so its slice is known) and the twin on the other, on that slice; then
 * the results must be equal (popped nodes compared by their place in each arena) and so
 * must the memory: the slice's words, list head, ring header and data, every node's two
 * words, and the other slices (left untouched). States cover compares that hold and fail,
 * empty and non-empty lists, rings from empty to full with records wrapping across the end,
 * full and free sample logs, index-pinned stores naming another slice (always COMPARE_FAILED),
 * and stopped slices, where the generated operation must answer STOPPED and change nothing.
 * Fixed seed, rseq mode only.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PerCpuOperationDifferentialTest {

    private static final long SEED = 0x5EED_0F_2026L;
    private static final int ITERATIONS = 1000;
    private static final int WORDS = 8;
    private static final int NODES = 16;
    private static final long CAPACITY = 256;

    /** One memory, its arena and where the test's items are; the same offsets in both. */
    private record Side(SliceMemory m, long[] nodes, MemorySegment nodeWords, long words, long head, long ring) {
        static Side create() {
            SliceMemory m = new SliceMemory(IndexField.CPU_ID, JitConstants.CONTEXT.fences());
            long words = m.allocate(8L * WORDS, 8);
            long head = m.allocateFresh(8, 8);
            long ring = m.allocateFresh(SliceLayout.RING_DATA + CAPACITY, 64);
            NodeArena arena = new NodeArena(8);
            long[] nodes = new long[NODES];
            for (int k = 0; k < NODES; k++) {
                nodes[k] = arena.allocate();
                assertEquals(nodes[0] + k * arena.stride(), nodes[k], "nodes of one chunk, in order");
            }
            assertEquals(16, arena.stride(), "link word and one payload word");
            return new Side(m, nodes, MemorySegment.ofAddress(nodes[0]).reinterpret(NODES * 16L), words, head, ring);
        }

        /** The node index of an address, -1 for 0. */
        int nodeIndex(long address) {
            if (address == 0) {
                return -1;
            }
            long k = (address - nodes[0]) / 16;
            if (k < 0 || k >= NODES || nodes[(int) k] != address) {
                fail("not a node address: 0x" + Long.toHexString(address));
            }
            return (int) k;
        }

        long node(int k) {
            return k < 0 ? 0 : nodes[k];
        }

        long at(int cpu, long off) {
            return m.at(cpu, off);
        }
    }

    /**
     * A slice state, independent of where the memory is: node links are node indexes (-1 for
     * none); the list runs through word {@code linkWord} of its nodes (-1 when read back).
     */
    private record State(long stopped, long[] words, int head, int[][] links, int linkWord, long[] ringHeader,
                         byte[] ringData) {}

    private static Side gen, twin;
    private static int cpu;

    @BeforeAll
    static void memories() {
        if (!JitConstants.RSEQ) {
            return;     // each test reports itself skipped
        }
        gen = Side.create();
        twin = Side.create();
        assertEquals(gen.words(), twin.words());
        assertEquals(gen.head(), twin.head());
        assertEquals(gen.ring(), twin.ring());
        cpu = CpuSets.allowed().getFirst();
    }

    // ---------------------------------------------------------------- random states

    private static State randomState(Random rnd, boolean stopped, PerCpuOperation op) {
        long[] words = new long[WORDS];
        for (int i = 0; i < WORDS; i++) {
            words[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(5) - 2 : rnd.nextLong();
        }
        if (op == PerCpuOperation.BOUNDED_PUSH || op == PerCpuOperation.BOUNDED_POP) {
            // A bounded stack over the words: word 0 the count (0..WORDS-1), the rest its entries.
            words[0] = rnd.nextInt(WORDS);
            for (int i = 1; i < WORDS; i++) {
                words[i] &= Long.MAX_VALUE;     // entries are non-negative (slot numbers)
            }
        }
        if (op == PerCpuOperation.LOG_APPEND) {
            // Word 0 the cursor (a byte offset, either log), entries from word 1: cursor and
            // limit below 8 * WORDS keep the entry inside the words.
            words[0] = 8L * rnd.nextInt(WORDS);
        }
        if (op == PerCpuOperation.LOG_APPEND_PAIR) {
            // The same with two-word entries: cursor and limit below 8 * (WORDS - 1) keep both
            // words of the entry inside the words.
            words[0] = 8L * rnd.nextInt(WORDS - 1);
        }
        // A list of 0..6 distinct nodes; every other node word holds 0 or some node (stale links).
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < NODES; k++) {
            order.add(k);
        }
        Collections.shuffle(order, rnd);
        int length = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(6);
        int[][] links = new int[NODES][2];
        for (int k = 0; k < NODES; k++) {
            links[k][0] = rnd.nextInt(3) == 0 ? -1 : rnd.nextInt(NODES);
            links[k][1] = rnd.nextInt(3) == 0 ? -1 : rnd.nextInt(NODES);
        }
        // The chain goes through word 0 or word 1 of each node: which one is the op's nextOff.
        int linkWord = rnd.nextInt(2);
        for (int i = 0; i < length; i++) {
            links[order.get(i)][linkWord] = i + 1 < length ? order.get(i + 1) : -1;
        }
        int head = length == 0 ? -1 : order.getFirst();
        // Ring: positions beyond the capacity (so records wrap), often nearly or exactly full.
        long read = 8L * rnd.nextInt((int) (10 * CAPACITY / 8));
        long used = switch (rnd.nextInt(4)) {
            case 0 -> CAPACITY;
            case 1 -> CAPACITY - 8L * rnd.nextInt(4);
            default -> 8L * rnd.nextInt((int) (CAPACITY / 8) + 1);
        };
        long[] ringHeader = {read + used, read, CAPACITY - 1};
        byte[] data = new byte[(int) CAPACITY];
        rnd.nextBytes(data);
        long stoppedWord = stopped ? 1 + rnd.nextInt(3) : 0;
        return new State(stoppedWord, words, head, links, linkWord, ringHeader, data);
    }

    /**
     * The owner word for a memory-independent state: 0 running (the memory's token),
     * 1 held by a stopper, 2 given back (0), 3 another owner's token.
     */
    private static long ownerWord(Side s, long state) {
        long token = s.m().token();
        return switch ((int) state) {
            case 0 -> token;
            case 1 -> SliceLayout.stoppedWord(token);
            case 2 -> 0;
            case 3 -> token % SliceLayout.MAX_TOKEN + 1;
            default -> throw new IllegalArgumentException("owner state " + state);
        };
    }

    /** The inverse of {@link #ownerWord}, or -1 for a word no state has. */
    private static long ownerState(Side s, long word) {
        for (long state = 0; state <= 3; state++) {
            if (ownerWord(s, state) == word) {
                return state;
            }
        }
        return -1;
    }

    private static void write(Side s, State st) {
        MemorySegment w = s.m().whole();
        w.set(JAVA_LONG, s.at(cpu, SliceLayout.OWNER_WORD_OFFSET), ownerWord(s, st.stopped()));
        for (int i = 0; i < WORDS; i++) {
            w.set(JAVA_LONG, s.at(cpu, s.words() + 8L * i), st.words()[i]);
        }
        w.set(JAVA_LONG, s.at(cpu, s.head()), s.node(st.head()));
        for (int k = 0; k < NODES; k++) {
            s.nodeWords().set(JAVA_LONG, 16L * k, s.node(st.links()[k][0]));
            s.nodeWords().set(JAVA_LONG, 16L * k + 8, s.node(st.links()[k][1]));
        }
        long r = s.at(cpu, s.ring());
        w.set(JAVA_LONG, r + SliceLayout.RING_WRITE, st.ringHeader()[0]);
        w.set(JAVA_LONG, r + SliceLayout.RING_READ, st.ringHeader()[1]);
        w.set(JAVA_LONG, r + SliceLayout.RING_MASK, st.ringHeader()[2]);
        MemorySegment.copy(st.ringData(), 0, w, JAVA_BYTE, r + SliceLayout.RING_DATA, st.ringData().length);
    }

    /** What {@code s} holds now, in memory-independent form. */
    private static State read(Side s) {
        MemorySegment w = s.m().whole();
        long[] words = new long[WORDS];
        for (int i = 0; i < WORDS; i++) {
            words[i] = w.get(JAVA_LONG, s.at(cpu, s.words() + 8L * i));
        }
        int[][] links = new int[NODES][2];
        for (int k = 0; k < NODES; k++) {
            links[k][0] = s.nodeIndex(s.nodeWords().get(JAVA_LONG, 16L * k));
            links[k][1] = s.nodeIndex(s.nodeWords().get(JAVA_LONG, 16L * k + 8));
        }
        long r = s.at(cpu, s.ring());
        long[] header = {w.get(JAVA_LONG, r + SliceLayout.RING_WRITE), w.get(JAVA_LONG, r + SliceLayout.RING_READ),
                w.get(JAVA_LONG, r + SliceLayout.RING_MASK)};
        byte[] data = w.asSlice(r + SliceLayout.RING_DATA, CAPACITY).toArray(JAVA_BYTE);
        return new State(ownerState(s, w.get(JAVA_LONG, s.at(cpu, SliceLayout.OWNER_WORD_OFFSET))), words,
                s.nodeIndex(w.get(JAVA_LONG, s.at(cpu, s.head()))), links, -1, header, data);
    }

    private static void assertSameState(State expected, State actual, String what) {
        assertEquals(expected.stopped(), actual.stopped(), what + ": stopped word");
        for (int i = 0; i < WORDS; i++) {
            assertEquals(expected.words()[i], actual.words()[i], what + ": word " + i);
        }
        assertEquals(expected.head(), actual.head(), what + ": list head (node index)");
        for (int k = 0; k < NODES; k++) {
            assertEquals(expected.links()[k][0], actual.links()[k][0], what + ": node " + k + " word 0 (node index)");
            assertEquals(expected.links()[k][1], actual.links()[k][1], what + ": node " + k + " word 1 (node index)");
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(expected.ringHeader()[i], actual.ringHeader()[i], what + ": ring header word " + i);
        }
        long mismatch = MemorySegment.ofArray(expected.ringData()).mismatch(MemorySegment.ofArray(actual.ringData()));
        assertEquals(-1, mismatch, what + ": ring data differ at byte " + mismatch);
    }

    /** The other slices were never written: their owner word holds the token, the rest reads zero. */
    private static void assertOtherSlicesUntouched(Side s, String what) {
        long end = s.ring() + SliceLayout.RING_DATA + CAPACITY;
        MemorySegment untouched = MemorySegment.ofArray(new byte[(int) end]);
        untouched.set(JAVA_LONG_UNALIGNED, SliceLayout.OWNER_WORD_OFFSET, s.m().token());
        for (int i = 0; i < s.m().slices(); i++) {
            if (i != cpu) {
                long m = s.m().slice(i).asSlice(0, end).mismatch(untouched);
                assertEquals(-1, m, what + ": slice " + i + " was written at byte " + m);
            }
        }
    }

    // ---------------------------------------------------------------- one operation

    /** Arguments of one call, in the uniform signature; {@code node} is a node index for PUSH. */
    private record Call(long a1, long a2, long a3, long a4, long a5, int node, byte[] src) {
        long arg(Side s, int i) {
            long[] a = {a1, a2, a3, a4, a5};
            return node >= 0 && i == 2 ? s.node(node) : a[i - 1];
        }

        @Override
        public String toString() {
            return "(" + a1 + ", " + (node >= 0 ? "node " + node : a2) + ", " + a3 + ", " + a4 + ", " + a5
                    + (src == null ? "" : ", src of " + src.length + " bytes") + ")";
        }
    }

    private static long wordOff(Random rnd) {
        return gen.words() + 8L * rnd.nextInt(WORDS);
    }

    private static long expectation(Random rnd, State st, long off) {
        long actual = st.words()[(int) ((off - gen.words()) / 8)];
        return rnd.nextInt(10) < 7 ? actual : actual ^ (1L << rnd.nextInt(64));
    }

    private static Call randomCall(PerCpuOperation op, Random rnd, State st) {
        long nextOff = 8L * st.linkWord();     // NodeArena.NEXT_OFFSET or the payload word: any 8-byte word works
        return switch (op) {
            case ADD -> new Call(wordOff(rnd), rnd.nextLong(), 0, 0, 0, -1, null);
            case COMPARE_AND_STORE, COMPARE_AND_STORE_RELEASE -> {
                long off = wordOff(rnd);
                yield new Call(off, expectation(rnd, st, off), rnd.nextLong(), 0, 0, -1, null);
            }
            case COMPARE2_AND_STORE -> {
                long off1 = wordOff(rnd), off2 = wordOff(rnd);
                yield new Call(off1, expectation(rnd, st, off1), off2, expectation(rnd, st, off2), rnd.nextLong(), -1, null);
            }
            case PUSH -> new Call(gen.head(), 0, nextOff, 0, 0, freeNode(rnd, st), null);
            case POP -> new Call(gen.head(), nextOff, 0, 0, 0, -1, null);
            // capacity 0..WORDS-1: full, nearly full, or with room; entries stay inside the words
            case BOUNDED_PUSH -> new Call(gen.words(), rnd.nextLong() & Long.MAX_VALUE, rnd.nextInt(WORDS), 0, 0, -1, null);
            case BOUNDED_POP -> new Call(gen.words(), 0, 0, 0, 0, -1, null);
            // limit 0..8 * (WORDS - 1) bytes: full, or room
            // step 8 to 32 bytes (1 to 4 interleaved logs)
            case LOG_APPEND -> new Call(gen.words(), rnd.nextLong(), 8L * rnd.nextInt(WORDS), 8L * (1 + rnd.nextInt(4)),
                    0, -1, null);
            // limit 0..8 * (WORDS - 2) bytes: full, or room for both words
            // step 16 to 64 bytes (1 to 4 interleaved logs of pairs)
            case LOG_APPEND_PAIR -> new Call(gen.words(), rnd.nextLong(), rnd.nextLong(), 8L * rnd.nextInt(WORDS - 1),
                    16L * (1 + rnd.nextInt(4)), -1, null);
            // the pinned CPU, mostly; else another slice's index or one beyond every slice
            case COMPARE_INDEX_AND_STORE -> {
                long off = wordOff(rnd);
                long index = switch (rnd.nextInt(6)) {
                    case 0 -> cpu + 1;
                    case 1 -> cpu == 0 ? 1 : cpu - 1;
                    default -> cpu;
                };
                yield new Call(off, index, expectation(rnd, st, off), rnd.nextLong(), 0, -1, null);
            }
            case RING_WRITE -> {
                long free = CAPACITY - (st.ringHeader()[0] - st.ringHeader()[1]);
                long len = switch (rnd.nextInt(5)) {
                    case 0 -> Math.max(0, free - 8 - rnd.nextInt(8));      // fits exactly or nearly
                    case 1 -> free - 7 + rnd.nextInt(8);                     // one byte too many, or fits
                    case 2 -> rnd.nextInt(17);                               // under a word, a word or two
                    default -> rnd.nextInt((int) CAPACITY + 16);
                };
                len = Math.max(0, len);
                byte[] src = new byte[(int) len];
                rnd.nextBytes(src);
                yield new Call(gen.ring(), len, 0, 0, 0, -1, src);
            }
        };
    }

    /** A node not in the list (pushing a listed node would make a cycle: callers never do). */
    private static int freeNode(Random rnd, State st) {
        boolean[] listed = new boolean[NODES];
        for (int k = st.head(); k >= 0; k = st.links()[k][st.linkWord()]) {
            listed[k] = true;
        }
        int k;
        do {
            k = rnd.nextInt(NODES);
        } while (listed[k]);
        return k;
    }

    private static long runGenerated(PerCpuOperation op, Call c, Map<String, Long> stats) {
        return runGenerated(op, c, c.src() == null ? null : MemorySegment.ofArray(c.src()), stats);
    }

    private static long runGenerated(PerCpuOperation op, Call c, MemorySegment src, Map<String, Long> stats) {
        OperationSet ops = SliceOps.DEFAULT.set(gen.m());
        for (int attempt = 0; attempt < 1000; attempt++) {
            long r = ops.invoke(op, gen.m().operationBase(), c.arg(gen, 1), c.arg(gen, 2), c.arg(gen, 3), c.arg(gen, 4),
                    c.arg(gen, 5), src);
            if (r != OpResult.ABORTED) {
                return r;
            }
            stats.merge("aborted", 1L, Long::sum);   // preempted more often than the retry bound: redo, it is safe
        }
        return fail("aborted 1000 times in a row");
    }

    @ParameterizedTest
    @EnumSource(PerCpuOperation.class)
    void theGeneratedOperationAndItsJavaTwinAgree(PerCpuOperation op) throws Throwable {
        assumeTrue(JitConstants.RSEQ, "generated operations exist in rseq mode only: " + JitConstants.RUNTIME.modeReason());
        assumeTrue(cpu < gen.m().slices(), "CPU " + cpu + " has no slice");
        Map<String, Long> stats = new TreeMap<>();
        Pinned.run(cpu, () -> {
            assertTrue(JitConstants.RUNTIME.registrations().ensureRegistered(), "this thread has an rseq registration");
            Random rnd = new Random(SEED + op.ordinal());
            for (int it = 0; it < ITERATIONS; it++) {
                boolean stopped = rnd.nextInt(10) == 0;
                State st = randomState(rnd, stopped, op);
                Call call = randomCall(op, rnd, st);
                write(gen, st);
                write(twin, st);
                String what = op + " iteration " + it + " " + call;
                long rg = runGenerated(op, call, stats);
                if (stopped) {
                    assertEquals(OpResult.STOPPED, rg, what + ": on a stopped slice");
                    assertSameState(st, read(gen), what + ": a stopped slice is left as it was");
                    stats.merge("stopped", 1L, Long::sum);
                    continue;
                }
                MemorySegment src = call.src() == null ? null : MemorySegment.ofArray(call.src());
                long rj = op.onStoppedSlice(twin.m().whole(), cpu, twin.m().at(cpu, 0), call.arg(twin, 1), call.arg(twin, 2),
                        call.arg(twin, 3), call.arg(twin, 4), call.arg(twin, 5), src);
                if (op == PerCpuOperation.POP && rj >= 0) {
                    assertTrue(rg >= 0, what + ": generated " + OpResult.describe(rg) + ", twin popped");
                    assertEquals(twin.nodeIndex(rj), gen.nodeIndex(rg), what + ": popped node");
                } else {
                    assertEquals(OpResult.describe(rj), OpResult.describe(rg), what + ": result");
                    assertEquals(rj, rg, what + ": result");
                }
                stats.merge(rg >= 0 ? "success" : OpResult.describe(rg), 1L, Long::sum);
                if (op == PerCpuOperation.COMPARE_INDEX_AND_STORE && call.a2() != cpu) {
                    assertEquals(OpResult.COMPARE_FAILED, rg, what + ": run on CPU " + cpu + ", not on " + call.a2());
                    stats.merge("other index", 1L, Long::sum);
                }
                if (op == PerCpuOperation.RING_WRITE && rg >= 0
                        && (st.ringHeader()[0] & (CAPACITY - 1)) + RingFormat.recordBytes(call.a2()) > CAPACITY) {
                    stats.merge("wrapped", 1L, Long::sum);
                }
                assertSameState(read(twin), read(gen), what);
                if (rg >= 0 && op != PerCpuOperation.POP && op != PerCpuOperation.BOUNDED_POP) {
                    assertEquals(cpu, rg, what + ": the slice of the pinned CPU");
                }
            }
            assertOtherSlicesUntouched(gen, op.toString());
            assertOtherSlicesUntouched(twin, op.toString());
        });
        System.out.println("differential " + op + ": " + stats);
        long decided = ITERATIONS - stats.getOrDefault("stopped", 0L);
        assertTrue(stats.getOrDefault("stopped", 0L) > 0, "stopped slices were tried: " + stats);
        assertTrue(stats.getOrDefault("success", 0L) > 0, "some calls committed: " + stats);
        Map<PerCpuOperation, String> decidedFailure = new EnumMap<>(PerCpuOperation.class);
        decidedFailure.put(PerCpuOperation.COMPARE_AND_STORE, "compare-failed");
        decidedFailure.put(PerCpuOperation.COMPARE_AND_STORE_RELEASE, "compare-failed");
        decidedFailure.put(PerCpuOperation.COMPARE2_AND_STORE, "compare-failed");
        decidedFailure.put(PerCpuOperation.POP, "empty");
        decidedFailure.put(PerCpuOperation.RING_WRITE, "full");
        decidedFailure.put(PerCpuOperation.LOG_APPEND, "full");
        decidedFailure.put(PerCpuOperation.LOG_APPEND_PAIR, "full");
        decidedFailure.put(PerCpuOperation.COMPARE_INDEX_AND_STORE, "compare-failed");
        String f = decidedFailure.get(op);
        if (f != null) {
            assertTrue(stats.getOrDefault(f, 0L) > 0, "some calls failed with " + f + ": " + stats);
        }
        if (op == PerCpuOperation.RING_WRITE) {
            assertTrue(stats.getOrDefault("wrapped", 0L) > 0, "some records wrapped across the end: " + stats);
        }
        if (op == PerCpuOperation.COMPARE_INDEX_AND_STORE) {
            assertTrue(stats.getOrDefault("other index", 0L) > 0, "some calls named another slice: " + stats);
        }
        assertTrue(decided > ITERATIONS / 2, stats.toString());
    }

    /**
     * The generated ring write reads its source's bytes and nothing around them: every
     * length that fits, at every record position of the ring (so every way a record can
     * wrap), from a source that ends right before an inaccessible page and from one that
     * starts right after one (a read past either end would crash the JVM), with the same
     * result and ring contents as the twin's.
     */
    @Test
    void theRingWriteReadsExactlyItsSource() throws Throwable {
        assumeTrue(JitConstants.RSEQ, "generated operations exist in rseq mode only: " + JitConstants.RUNTIME.modeReason());
        assumeTrue(cpu < gen.m().slices(), "CPU " + cpu + " has no slice");
        long page = 4096;
        long guarded = Libc.mmapAnonymous(3 * page, Libc.PROT_NONE, false);
        Libc.mprotect(guarded + page, page, Libc.PROT_READ | Libc.PROT_WRITE);
        MemorySegment inner = MemorySegment.ofAddress(guarded + page).reinterpret(page);
        Map<String, Long> stats = new TreeMap<>();
        Pinned.run(cpu, () -> {
            assertTrue(JitConstants.RUNTIME.registrations().ensureRegistered(), "this thread has an rseq registration");
            Random rnd = new Random(SEED);
            int[][] links = new int[NODES][2];
            for (int[] l : links) {
                Arrays.fill(l, -1);
            }
            for (long len = 0; len <= CAPACITY - SliceLayout.RING_RECORD_HEADER; len++) {
                byte[] bytes = new byte[(int) len];
                rnd.nextBytes(bytes);
                for (long position = 0; position < CAPACITY; position += 8) {
                    for (boolean atEnd : new boolean[]{true, false}) {
                        MemorySegment src = inner.asSlice(atEnd ? page - len : 0, len);
                        src.copyFrom(MemorySegment.ofArray(bytes));
                        long w = position + CAPACITY * rnd.nextInt(3);
                        byte[] data = new byte[(int) CAPACITY];
                        rnd.nextBytes(data);
                        State st = new State(0, new long[WORDS], -1, links, 0, new long[]{w, w, CAPACITY - 1}, data);
                        write(gen, st);
                        write(twin, st);
                        String what = "ring write of " + len + " bytes at position " + position
                                + (atEnd ? ", source before a guard page" : ", source after a guard page");
                        long rg = runGenerated(PerCpuOperation.RING_WRITE, new Call(gen.ring(), len, 0, 0, 0, -1, null),
                                src, stats);
                        long rj = PerCpuOperation.RING_WRITE.onStoppedSlice(twin.m().whole(), cpu, twin.m().at(cpu, 0), twin.ring(), len,
                                0, 0, 0, src);
                        assertEquals(cpu, rj, what + ": the twin wrote");
                        assertEquals(rj, rg, what + ": result");
                        assertSameState(read(twin), read(gen), what);
                        stats.merge(position + RingFormat.recordBytes(len) > CAPACITY ? "wrapped" : "straight", 1L,
                                Long::sum);
                    }
                }
            }
        });
        System.out.println("differential RING_WRITE sources: " + stats);
        assertTrue(stats.getOrDefault("wrapped", 0L) > 0 && stats.getOrDefault("straight", 0L) > 0, stats.toString());
    }
}
