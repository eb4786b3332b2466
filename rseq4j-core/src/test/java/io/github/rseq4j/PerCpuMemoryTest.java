package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.github.rseq4j.CurrentCpuTest.onPlatformThread;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The low-level API: {@link PerCpuMemory}, {@link PerCpuItem}, {@link PerCpuList},
 * {@link PerCpuRing}, {@link PerCpuSpinLock}: what each operation does on a thread pinned
 * to one CPU (so the slice it must use is known, in rseq and in portable mode alike),
 * stop/start, migration and drain under concurrency, and a clear exception for every bad
 * argument and for use after close.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PerCpuMemoryTest {

    /** Runs {@code body} on a new platform thread pinned to {@code cpu}. */
    static void pinned(int cpu, Executable body) throws Throwable {
        io.github.rseq4j.testsupport.Pinned.run(cpu, body);
    }

    static List<Integer> allowed() {
        return CpuSets.allowed();
    }

    static <T extends Throwable> T assertThrowsWith(Class<T> type, String fragment, Executable e) {
        T t = assertThrows(type, e);
        assertNotNull(t.getMessage(), "a message");
        assertTrue(t.getMessage().contains(fragment), "message '" + t.getMessage() + "' should mention '" + fragment + "'");
        return t;
    }

    // ------------------------------------------------------------------ items

    @Test
    void itemOperationsUseTheSliceOfThePinnedCpu() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            assertEquals(IndexMode.CPU_ID, mem.indexMode());
            for (int cpu : allowed()) {
                PerCpuItem item = mem.newItem(24);
                assertEquals(24, item.bytes());
                assertEquals(mem, item.memory());
                pinned(cpu, () -> {
                    assertEquals(cpu, item.add(0, 5));
                    assertEquals(cpu, item.add(0, -2));
                    assertEquals(3, item.get(cpu, 0));
                    assertEquals(cpu, item.compareAndStore(8, 0, 42));
                    assertEquals(42, item.get(cpu, 8));
                    assertEquals(RseqResult.COMPARE_FAILED, item.compareAndStore(8, 0, 7));
                    assertEquals(42, item.get(cpu, 8), "a failed compare stores nothing");
                    assertEquals(cpu, item.compareAndStoreRelease(8, 42, 43));
                    assertEquals(RseqResult.COMPARE_FAILED, item.compareAndStoreRelease(8, 42, 44));
                    assertEquals(cpu, item.compare2AndStore(16, 0, 8, 43, 9));
                    assertEquals(9, item.get(cpu, 16));
                    assertEquals(RseqResult.COMPARE_FAILED, item.compare2AndStore(16, 9, 8, 0, 1), "second compare fails");
                    assertEquals(RseqResult.COMPARE_FAILED, item.compare2AndStore(16, 0, 8, 43, 1), "first compare fails");
                    assertEquals(9, item.get(cpu, 16));
                    long t = item.tryAdd(0, 10);
                    long c = item.tryCompareAndStore(8, 43, 50);
                    long c2 = item.tryCompare2AndStore(16, 9, 8, 50, 60);
                    if (Rseq.isRseqMode()) {
                        assertEquals(cpu, t);
                        assertEquals(13, item.get(cpu, 0));
                        assertEquals(cpu, c);
                        assertEquals(cpu, c2);
                        assertEquals(60, item.get(cpu, 16));
                        assertEquals(RseqResult.COMPARE_FAILED, item.tryCompareAndStore(8, 0, 1));
                    } else {
                        assertEquals(RseqResult.NOT_REGISTERED, t, "no raw attempts in portable mode");
                        assertEquals(RseqResult.NOT_REGISTERED, c);
                        assertEquals(RseqResult.NOT_REGISTERED, c2);
                        assertEquals(3, item.get(cpu, 0), "a failed attempt stores nothing");
                        assertEquals(43, item.get(cpu, 8));
                    }
                });
                for (int i = 0; i < mem.slices(); i++) {
                    if (i != cpu) {
                        for (long off = 0; off < 24; off += 8) {
                            assertEquals(0, item.get(i, off), "slice " + i + " untouched");
                        }
                    }
                }
                assertEquals(item.get(cpu, 0), item.sum(0));
            }
        }
    }

    @Test
    void allocationRoundsUpAlignsAndZeroesReusedItems() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            assertEquals(8, mem.newItem(1).bytes());
            assertEquals(16, mem.newItem(13).bytes());
            PerCpuItem a = mem.newItem(32);
            int cpu = allowed().getFirst();
            pinned(cpu, () -> {
                for (long off = 0; off < 32; off += 8) {
                    a.add(off, 99);
                }
            });
            assertEquals(99, a.get(cpu, 24));
            a.free();
            assertThrowsWith(IllegalStateException.class, "already freed", a::free);
            PerCpuItem b = mem.newItem(32);
            for (int i = 0; i < mem.slices(); i++) {
                for (long off = 0; off < 32; off += 8) {
                    assertEquals(0, b.get(i, off), "a reused item reads as zero");
                }
            }
            assertTrue(mem.toString().contains("CPU_ID"), mem.toString());
        }
    }

    @Test
    void partsPrintWhatTheyAre() {
        PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID, 4096);
        int n = mem.slices();
        PerCpuItem item = mem.newItem(13);
        PerCpuItem gone = mem.newItem(8);
        PerCpuRing ring = mem.newRing(256);
        PerCpuSpinLock lock = mem.newSpinLock();
        assertEquals("PerCpuItem[bytes=16, offset=64, " + n + " slices]", item.toString());
        gone.free();
        assertTrue(gone.toString().endsWith(" slices, freed]"), gone.toString());
        assertEquals("PerCpuRing[capacity=256 bytes, " + n + " slices]", ring.toString());
        assertEquals("PerCpuSpinLock[" + n + " slices]", lock.toString());
        mem.close();
        assertTrue(item.toString().endsWith(" slices, closed]"), item.toString());
        assertEquals("PerCpuRing[capacity=256 bytes, " + n + " slices, closed]", ring.toString());
        assertEquals("PerCpuSpinLock[" + n + " slices, closed]", lock.toString());
    }

    @Test
    void memoryFillsUpWithAClearError() {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem all = mem.newItem(mem.itemCapacity());
            assertEquals(mem.itemCapacity(), all.bytes());
            assertEquals(mem.sliceBytes() - 64, mem.itemCapacity());
            assertThrowsWith(IllegalStateException.class, "full", () -> mem.newItem(8));
            all.free();
            // Free space is reused for items of the same size (exact-size free lists).
            assertEquals(mem.itemCapacity(), mem.newItem(mem.itemCapacity()).bytes());
        }
    }

    @Test
    void stopGivesTheCallerTheSlice() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem item = mem.newItem(8);
            int cpu = allowed().getFirst();
            assertFalse(mem.isStopped(cpu));
            StoppedSlice held = mem.stop(cpu);
            assertTrue(mem.isStopped(cpu));
            assertEquals(cpu, held.index());
            assertTrue(mem.tryStop(cpu).isEmpty(), "a stopped slice cannot be stopped again");
            item.setStopped(held, 0, 77);
            assertEquals(77, item.getStopped(held, 0));
            assertEquals(77, item.get(cpu, 0));
            AtomicBoolean stopped = new AtomicBoolean();
            Thread other = Thread.ofPlatform().start(() -> {
                try (StoppedSlice s = mem.stop(cpu)) { // waits for our close()
                    stopped.set(true);
                }
            });
            Thread.sleep(100);
            assertFalse(stopped.get(), "a second stopper waits");
            held.close();
            assertFalse(held.isOpen());
            assertThrowsWith(IllegalStateException.class, "closed", () -> item.setStopped(held, 0, 1));
            assertThrowsWith(IllegalStateException.class, "already closed", held::close);
            other.join(TimeScale.millis(10_000));
            assertTrue(stopped.get(), "and gets the slice once it is restarted");
            assertFalse(mem.isStopped(cpu));
            StoppedSlice again = mem.tryStop(cpu).orElseThrow();
            again.close();
            pinned(cpu, () -> assertEquals(cpu, item.add(0, 1)));
            assertEquals(78, item.sum(0));
        }
    }

    @ParameterizedTest
    @EnumSource(IndexMode.class)
    void concurrentAddsAreExact(IndexMode mode) throws Exception {
        assumeTrue(mode == IndexMode.CPU_ID || !Rseq.isRseqMode() || Rseq.status().kernel().mmCid(), "mm_cid needs Linux 6.3+");
        try (PerCpuMemory mem = new PerCpuMemory(mode)) {
            PerCpuItem item = mem.newItem(16);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                boolean virtual = t % 2 == 1;
                Runnable r = () -> {
                    for (int i = 0; i < 100_000; i++) {
                        item.add(8, 1);
                        if (virtual && (i & 255) == 0) {
                            Thread.yield();
                        }
                    }
                };
                ts.add(virtual ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r));
            }
            for (Thread t : ts) {
                t.join();
            }
            assertEquals(800_000, item.sum(8));
            assertEquals(0, item.sum(0));
        }
    }

    // ------------------------------------------------------------------ lists

    @Test
    void listPushAndPopOnThePinnedCpu() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuList list = mem.newList(24);
            assertEquals(24, list.payloadBytes());
            int cpu = allowed().getLast();
            pinned(cpu, () -> {
                assertNull(list.pop(), "empty");
                MemorySegment[] nodes = new MemorySegment[3];
                for (int i = 0; i < 3; i++) {
                    nodes[i] = list.newNode();
                    assertEquals(24, nodes[i].byteSize());
                    for (long off = 0; off < 24; off += 8) {
                        assertEquals(0, nodes[i].get(JAVA_LONG, off), "a new node is zeroed");
                    }
                    nodes[i].set(JAVA_LONG, 0, 100 + i);
                    nodes[i].set(JAVA_LONG, 16, -i);
                    assertEquals(cpu, list.push(nodes[i]));
                }
                for (int i = 2; i >= 0; i--) {
                    MemorySegment n = list.pop();
                    assertNotNull(n);
                    assertEquals(nodes[i].address(), n.address(), "LIFO");
                    assertEquals(100 + i, n.get(JAVA_LONG, 0));
                    assertEquals(-i, n.get(JAVA_LONG, 16));
                }
                assertNull(list.pop());
                assertEquals(3, list.nodesCreated());
            });
        }
    }

    @Test
    void stoppedVariantsMigrateAndDrain() throws Throwable {
        List<Integer> cpus = allowed();
        assumeTrue(cpus.size() >= 2, "needs two CPUs");
        int c = cpus.getFirst(), d = cpus.getLast();
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuList list = mem.newList(8);
            List<Long> pushed = new ArrayList<>();
            pinned(c, () -> {
                for (int i = 0; i < 5; i++) {
                    MemorySegment n = list.newNode();
                    n.set(JAVA_LONG, 0, i);
                    list.push(n);
                    pushed.add(n.address());
                }
            });
            try (StoppedSlice s = mem.stop(c)) {
                MemorySegment top = list.popStopped(s);
                assertEquals(pushed.getLast(), top.address());
                list.pushStopped(s, top);
            }
            assertEquals(0, list.migrate(c, c, 5), "same slice");
            assertEquals(0, list.migrate(c, d, 0), "max 0");
            assertEquals(3, list.migrate(c, d, 3));
            assertEquals(2, list.migrate(c, d, 100));
            assertEquals(0, list.migrate(c, d, 1), "nothing left");
            assertFalse(mem.isStopped(c) || mem.isStopped(d), "migrate restarts both");
            List<Long> drained = new ArrayList<>();
            assertEquals(0, list.drain(c, n -> drained.add(n.address())));
            assertEquals(5, list.drain(d, n -> drained.add(n.address())));
            assertEquals(List.copyOf(new java.util.TreeSet<>(pushed)), List.copyOf(new java.util.TreeSet<>(drained)));
            assertFalse(mem.isStopped(d), "drain restarts the slice");
            pinned(d, () -> assertNull(list.pop(), "drained"));
        }
    }

    /**
     * Nothing lost, nothing duplicated: threads push and pop while a migrator moves nodes
     * between slices and drains slices; at the end every node is in exactly one place.
     */
    @ParameterizedTest
    @EnumSource(IndexMode.class)
    void migrationAndDrainWhileThreadsPushAndPop(IndexMode mode) throws Exception {
        assumeTrue(mode == IndexMode.CPU_ID || !Rseq.isRseqMode() || Rseq.status().kernel().mmCid(), "mm_cid needs Linux 6.3+");
        final int nodes = 4096, workers = 5;
        try (PerCpuMemory mem = new PerCpuMemory(mode)) {
            PerCpuList list = mem.newList(16);
            Map<Long, Integer> idOf = new HashMap<>();
            for (int id = 0; id < nodes; id++) {
                MemorySegment n = list.newNode();
                n.set(JAVA_LONG, 0, id);
                n.set(JAVA_LONG, 8, ~id);
                idOf.put(n.address(), id);
                list.push(n);
            }
            AtomicBoolean done = new AtomicBoolean();
            ConcurrentLinkedQueue<MemorySegment> held = new ConcurrentLinkedQueue<>();
            AtomicLong ops = new AtomicLong(), moves = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                long seed = w;
                Runnable worker = () -> {
                    Random rnd = new Random(seed);
                    ArrayDeque<MemorySegment> mine = new ArrayDeque<>();
                    long n = 0;
                    try {
                        while (!done.get()) {
                            if (mine.size() < 16 && (mine.isEmpty() || rnd.nextBoolean())) {
                                MemorySegment s = list.pop();
                                if (s != null) {
                                    mine.add(s);
                                }
                            } else {
                                list.push(mine.poll());
                            }
                            if ((++n & 1023) == 0) {
                                Thread.yield();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        held.addAll(mine);
                        ops.addAndGet(n);
                    }
                };
                threads.add(w < 3 ? Thread.ofPlatform().start(worker) : Thread.ofVirtual().start(worker));
            }
            threads.add(Thread.ofPlatform().start(() -> {
                Random rnd = new Random(99);
                ArrayDeque<MemorySegment> mine = new ArrayDeque<>();
                try {
                    for (long round = 0; !done.get(); round++) {
                        int from = rnd.nextInt(mem.slices()), to = rnd.nextInt(mem.slices());
                        moves.addAndGet(list.migrate(from, to, rnd.nextInt(33)));
                        if (round % 8 == 0) {
                            list.drain(rnd.nextInt(mem.slices()), mine::add);
                            while (mine.size() > 32) {
                                list.push(mine.poll());
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    held.addAll(mine);
                }
            }));
            Thread.sleep(TimeScale.millis(1500));
            done.set(true);
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            List<MemorySegment> all = new ArrayList<>(held);
            for (int i = 0; i < mem.slices(); i++) {
                list.drain(i, all::add);
            }
            BitSet seen = new BitSet(nodes);
            for (MemorySegment s : all) {
                Integer id = idOf.get(s.address());
                assertNotNull(id, "an address that is not one of the nodes: " + s);
                assertFalse(seen.get(id), "node " + id + " is in two places");
                seen.set(id);
                assertEquals((long) id, s.get(JAVA_LONG, 0), "payload intact");
                assertEquals((long) ~id, s.get(JAVA_LONG, 8), "payload intact");
            }
            assertEquals(nodes, all.size(), "every node once (" + ops.get() + " pushes/pops, " + moves.get() + " moved)");
            assertEquals(nodes, seen.cardinality());
            assertTrue(ops.get() > 1000 && moves.get() > 0, "work was done: ops " + ops.get() + ", moved " + moves.get());
            assertEquals(nodes, list.nodesCreated());
        }
    }

    // ------------------------------------------------------------------ rings

    private static byte[] pattern(int len, int seed) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (seed * 31 + i * 7);
        }
        return b;
    }

    @Test
    void ringWritesAndDrainsInOrderOnThePinnedCpu() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuRing ring = mem.newRing(4096);
            assertEquals(4096, ring.capacity());
            int cpu = allowed().getLast();
            byte[] a = pattern(13, 1), c = pattern(4096 - 8, 3);
            MemorySegment b = Arena.ofAuto().allocate(100);
            b.copyFrom(MemorySegment.ofArray(pattern(100, 2)));
            pinned(cpu, () -> {
                assertEquals(cpu, ring.write(MemorySegment.ofArray(a)), "heap record");
                assertEquals(cpu, ring.write(b), "native record");
                assertEquals(cpu, ring.write(MemorySegment.ofArray(new byte[0])), "empty record");
                assertEquals(PerCpuRing.recordBytes(13) + PerCpuRing.recordBytes(100) + PerCpuRing.recordBytes(0),
                        ring.used(cpu));
            });
            for (int i = 0; i < mem.slices(); i++) {
                if (i != cpu) {
                    assertEquals(0, ring.used(i));
                }
            }
            List<byte[]> got = new ArrayList<>();
            List<Integer> where = new ArrayList<>();
            assertEquals(3, ring.drain((index, bytes, length) -> {
                got.add(java.util.Arrays.copyOf(bytes, length));
                where.add(index);
            }));
            assertEquals(List.of(cpu, cpu, cpu), where);
            assertArrayEquals(a, got.get(0));
            assertArrayEquals(pattern(100, 2), got.get(1));
            assertEquals(0, got.get(2).length);
            assertEquals(0, ring.used(cpu));
            assertEquals(0, ring.drain((i, bytes, l) -> { }), "nothing left");
            // A record as large as the ring allows fills it exactly.
            pinned(cpu, () -> {
                assertEquals(cpu, ring.write(MemorySegment.ofArray(c)));
                assertEquals(4096, ring.used(cpu));
                assertEquals(RseqResult.FULL, ring.write(MemorySegment.ofArray(new byte[1])), "full");
            });
            assertEquals(1, ring.drain((i, bytes, l) -> assertArrayEquals(c, java.util.Arrays.copyOf(bytes, l))));
        }
    }

    @Test
    void ringReportsFullAndWrapsAround() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuRing ring = mem.newRing(256);
            int cpu = allowed().getFirst();
            pinned(cpu, () -> {
                MemorySegment rec = MemorySegment.ofArray(pattern(100, 5));
                assertEquals(cpu, ring.write(rec));
                assertEquals(cpu, ring.write(rec));
                assertEquals(224, ring.used(cpu));
                assertEquals(RseqResult.FULL, ring.write(rec), "no room for a third 112-byte record");
                assertEquals(224, ring.used(cpu), "a refused write stores nothing");
                assertEquals(cpu, ring.write(MemorySegment.ofArray(pattern(24, 6))), "32 bytes still fit");
                assertEquals(3, ring.drain((i, b, l) -> { }));
                // Many rounds with varying sizes: records straddle the end of the ring.
                Random rnd = new Random(7);
                List<byte[]> expected = new ArrayList<>();
                List<byte[]> actual = new ArrayList<>();
                for (int round = 0; round < 2000; round++) {
                    byte[] r = pattern(rnd.nextInt(121), round);
                    long res = ring.write(MemorySegment.ofArray(r));
                    if (res == RseqResult.FULL) {
                        ring.drain((i, b, l) -> actual.add(java.util.Arrays.copyOf(b, l)));
                        res = ring.write(MemorySegment.ofArray(r));
                    }
                    assertEquals(cpu, res);
                    expected.add(r);
                }
                ring.drain((i, b, l) -> actual.add(java.util.Arrays.copyOf(b, l)));
                assertEquals(expected.size(), actual.size());
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i), actual.get(i), "record " + i);
                }
            });
        }
    }

    @ParameterizedTest
    @EnumSource(IndexMode.class)
    void concurrentWritersAndAReaderLoseNothing(IndexMode mode) throws Exception {
        assumeTrue(mode == IndexMode.CPU_ID || !Rseq.isRseqMode() || Rseq.status().kernel().mmCid(), "mm_cid needs Linux 6.3+");
        final int writers = 4, perWriter = 5000;
        try (PerCpuMemory mem = new PerCpuMemory(mode)) {
            PerCpuRing ring = mem.newRing(4096);
            BitSet[] seen = new BitSet[writers];
            int[][] lastSeq = new int[writers][mem.slices()];
            for (int w = 0; w < writers; w++) {
                seen[w] = new BitSet(perWriter);
                java.util.Arrays.fill(lastSeq[w], -1);
            }
            List<String> problems = new ArrayList<>();
            RecordHandler<RuntimeException> handler = (index, bytes, length) -> {
                ByteBuffer bb = ByteBuffer.wrap(bytes, 0, length);
                int w = bb.getInt(), seq = bb.getInt();
                long check = bb.getLong();
                if (length != 16 || check != ((long) w << 32 ^ seq) * 0x9E3779B97F4A7C15L) {
                    problems.add("corrupt record " + w + "/" + seq + " len " + length);
                    return;
                }
                if (seen[w].get(seq)) {
                    problems.add("duplicate " + w + "/" + seq);
                }
                seen[w].set(seq);
                if (seq <= lastSeq[w][index]) {
                    problems.add("out of order in slice " + index + ": " + w + "/" + seq + " after " + lastSeq[w][index]);
                }
                lastSeq[w][index] = seq;
            };
            AtomicLong full = new AtomicLong();
            List<Thread> ts = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int me = w;
                ts.add(Thread.ofPlatform().start(() -> {
                    byte[] rec = new byte[16];
                    ByteBuffer bb = ByteBuffer.wrap(rec);
                    for (int seq = 0; seq < perWriter; seq++) {
                        bb.clear();
                        bb.putInt(me).putInt(seq).putLong(((long) me << 32 ^ seq) * 0x9E3779B97F4A7C15L);
                        while (ring.write(MemorySegment.ofArray(rec)) == RseqResult.FULL) {
                            full.incrementAndGet();
                            Thread.yield();
                        }
                    }
                }));
            }
            Thread reader = Thread.ofPlatform().start(() -> {
                while (ts.stream().anyMatch(Thread::isAlive)) {
                    ring.drain(handler);
                    Thread.onSpinWait();
                }
            });
            for (Thread t : ts) {
                t.join();
            }
            reader.join();
            ring.drain(handler);
            assertTrue(problems.isEmpty(), problems.stream().limit(10).toList().toString());
            for (int w = 0; w < writers; w++) {
                assertEquals(perWriter, seen[w].cardinality(), "writer " + w + " (ring was full " + full.get() + " times)");
            }
            for (int i = 0; i < mem.slices(); i++) {
                assertEquals(0, ring.used(i));
            }
        }
    }

    // ------------------------------------------------------------------ spin locks

    @Test
    void spinLockOnThePinnedCpu() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuSpinLock lock = mem.newSpinLock();
            int cpu = allowed().getLast();
            pinned(cpu, () -> {
                assertEquals(cpu, lock.lock());
                assertTrue(lock.isLocked(cpu));
                for (int i = 0; i < mem.slices(); i++) {
                    assertEquals(i == cpu, lock.isLocked(i));
                }
                lock.unlock(cpu);
                assertFalse(lock.isLocked(cpu));
                assertThrowsWith(IllegalStateException.class, "not held", () -> lock.unlock(cpu));
            });
        }
    }

    @Test
    void spinLocksExcludeHoldersOfTheSameSlice() throws Exception {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuSpinLock lock = mem.newSpinLock();
            long[] counters = new long[mem.slices()];
            int threads = 6, iterations = 20_000;
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Runnable r = () -> {
                    for (int i = 0; i < iterations; i++) {
                        int idx = lock.lock();
                        long v = counters[idx];
                        if ((i & 63) == 0) {
                            Thread.onSpinWait();
                        }
                        counters[idx] = v + 1;
                        lock.unlock(idx);
                    }
                };
                ts.add(t % 3 == 2 ? Thread.ofVirtual().start(r) : Thread.ofPlatform().start(r));
            }
            for (Thread t : ts) {
                t.join();
            }
            assertEquals((long) threads * iterations, java.util.Arrays.stream(counters).sum());
            for (int i = 0; i < mem.slices(); i++) {
                assertFalse(lock.isLocked(i));
            }
        }
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badArgumentsToMemoryAndItems() throws Throwable {
        assertThrowsWith(NullPointerException.class, "index mode", () -> new PerCpuMemory(null));
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            int n = mem.slices();
            for (long bad : new long[]{0, -1, -8, mem.itemCapacity() + 1, Long.MAX_VALUE, Long.MIN_VALUE}) {
                assertThrowsWith(IllegalArgumentException.class, "item size", () -> mem.newItem(bad));
            }
            PerCpuItem item = mem.newItem(16);
            for (long off : new long[]{-8, -1, 4, 15, 16, 24, Long.MAX_VALUE, Long.MIN_VALUE}) {
                String frag = "word offset " + off;
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.add(off, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.tryAdd(off, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.compareAndStore(off, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.compareAndStoreRelease(off, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.tryCompareAndStore(off, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.compare2AndStore(off, 0, 8, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.compare2AndStore(0, 0, off, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.tryCompare2AndStore(off, 0, 8, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.tryCompare2AndStore(0, 0, off, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.get(0, off));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.sum(off));
                try (StoppedSlice s = mem.stop(0)) {
                    assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.setStopped(s, off, 1));
                }
            }
            for (int idx : new int[]{-1, n, n + 1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                String frag = "slice index " + idx;
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> item.get(idx, 0));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> mem.stop(idx));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> mem.tryStop(idx));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> mem.isStopped(idx));
            }
            try (PerCpuMemory other = new PerCpuMemory(IndexMode.CPU_ID); StoppedSlice foreign = other.stop(0)) {
                assertThrowsWith(IllegalArgumentException.class, "another PerCpuMemory", () -> item.setStopped(foreign, 0, 1));
            }
            assertEquals(0, item.get(0, 0), "nothing written");
            StoppedSlice once = mem.stop(0);
            once.close();
            assertThrowsWith(IllegalStateException.class, "closed", () -> item.setStopped(once, 0, 1));
            assertThrowsWith(IllegalStateException.class, "already closed", once::close);
            for (int i = 0; i < n; i++) {
                assertFalse(mem.isStopped(i), "no bad call left a slice stopped");
            }
        }
    }

    @Test
    void badArgumentsToLists() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            int n = mem.slices();
            for (long bad : new long[]{0, -1, 65537, Long.MAX_VALUE, Long.MIN_VALUE}) {
                assertThrowsWith(IllegalArgumentException.class, "node payload", () -> mem.newList(bad));
            }
            assertEquals(65536, mem.newList(65536).payloadBytes());
            PerCpuList list = mem.newList(16);
            PerCpuList other = mem.newList(16);
            MemorySegment node = list.newNode();
            MemorySegment foreignNode = other.newNode();
            List<MemorySegment> foreign = List.of(
                    MemorySegment.ofArray(new byte[16]),
                    Arena.ofAuto().allocate(16, 16),
                    Arena.ofAuto().allocate(24, 16).asSlice(8),
                    foreignNode,
                    node.asSlice(8),
                    node.asSlice(0, 8),
                    MemorySegment.ofAddress(node.address() + 16).reinterpret(16),
                    MemorySegment.ofAddress(node.address() - 8).reinterpret(16),
                    MemorySegment.NULL,
                    MemorySegment.ofAddress(0x10000).reinterpret(16));
            for (MemorySegment f : foreign) {
                assertThrowsWith(IllegalArgumentException.class, "not a node of this list", () -> list.push(f));
                try (StoppedSlice s = mem.stop(0)) {
                    assertThrowsWith(IllegalArgumentException.class, "not a node of this list", () -> list.pushStopped(s, f));
                }
            }
            assertThrowsWith(NullPointerException.class, "node", () -> list.push(null));
            try (StoppedSlice s = mem.stop(0)) {
                assertThrowsWith(NullPointerException.class, "node", () -> list.pushStopped(s, null));
            }
            for (int idx : new int[]{-1, n, Integer.MIN_VALUE}) {
                String frag = "slice index " + idx;
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> list.migrate(idx, 0, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> list.migrate(0, idx, 1));
                assertThrowsWith(IndexOutOfBoundsException.class, frag, () -> list.drain(idx, s -> { }));
            }
            assertThrowsWith(IllegalArgumentException.class, "max", () -> list.migrate(0, n - 1, -1));
            assertThrowsWith(NullPointerException.class, "sink", () -> list.drain(0, (Consumer<MemorySegment>) null));
            StoppedSlice closedSlice = mem.stop(0);
            closedSlice.close();
            assertThrowsWith(IllegalStateException.class, "closed", () -> list.popStopped(closedSlice));
            assertThrowsWith(IllegalStateException.class, "closed", () -> list.pushStopped(closedSlice, node));
            for (int i = 0; i < n; i++) {
                assertFalse(mem.isStopped(i), "no bad call left a slice stopped");
                assertEquals(0, list.drain(i, s -> { }), "no bad call pushed anything");
            }
            // The node itself, and a copy of its segment, are accepted.
            assertDoesNotThrow(() -> list.push(MemorySegment.ofAddress(node.address()).reinterpret(16)));
            assertEquals(1, java.util.stream.IntStream.range(0, n).map(i -> list.drain(i, s -> { })).sum());
        }
    }

    @Test
    void badArgumentsToRingsAndLocks() {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            int n = mem.slices();
            for (long bad : new long[]{0, -256, 128, 255, 300, 4095, mem.sliceBytes(), Long.MAX_VALUE, Long.MIN_VALUE}) {
                assertThrowsWith(IllegalArgumentException.class, "ring capacity", () -> mem.newRing(bad));
            }
            assertEquals(mem.sliceBytes() / 2, mem.newRing(mem.sliceBytes() / 2).capacity());
            PerCpuRing small = mem.newRing(256);
            PerCpuRing big = mem.newRing(16384);
            assertThrowsWith(NullPointerException.class, "record", () -> big.write(null));
            assertThrowsWith(IllegalArgumentException.class, "4097 bytes", () -> big.write(MemorySegment.ofArray(new byte[4097])));
            assertThrowsWith(IllegalArgumentException.class, "249 bytes", () -> small.write(MemorySegment.ofArray(new byte[249])));
            assertThrowsWith(NullPointerException.class, "handler", () -> big.drain(null));
            assertThrowsWith(IndexOutOfBoundsException.class, "slice index -1", () -> big.used(-1));
            assertThrowsWith(IndexOutOfBoundsException.class, "slice index " + n, () -> big.used(n));
            for (int i = 0; i < n; i++) {
                assertEquals(0, big.used(i), "refused writes stored nothing");
                assertEquals(0, small.used(i));
            }
            assertTrue(big.write(MemorySegment.ofArray(new byte[4096])) >= 0, "the largest record is accepted");
            assertTrue(small.write(MemorySegment.ofArray(new byte[248])) >= 0, "a record that fills the ring exactly");

            PerCpuSpinLock lock = mem.newSpinLock();
            for (int i = 0; i < n; i++) {
                int idx = i;
                assertThrowsWith(IllegalStateException.class, "not held", () -> lock.unlock(idx));
            }
            assertThrowsWith(IndexOutOfBoundsException.class, "slice index -1", () -> lock.unlock(-1));
            assertThrowsWith(IndexOutOfBoundsException.class, "slice index " + n, () -> lock.isLocked(n));
        }
    }

    @Test
    void useAfterCloseIsRefused() throws Throwable {
        PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID);
        PerCpuItem item = mem.newItem(8);
        PerCpuList list = mem.newList(8);
        MemorySegment node = list.newNode();
        PerCpuRing ring = mem.newRing(256);
        PerCpuSpinLock lock = mem.newSpinLock();
        int cpu = allowed().getFirst();
        int[] held = new int[1];
        pinned(cpu, () -> {
            item.add(0, 1);
            assertTrue(ring.write(MemorySegment.ofArray(new byte[8])) >= 0);
            held[0] = lock.lock();
        });
        StoppedSlice stoppedBeforeClose = mem.stop(cpu);
        mem.close();
        mem.close(); // idempotent
        String closed = "closed";
        List<Executable> refused = List.of(
                () -> mem.newItem(8), () -> mem.newList(8), () -> mem.newRing(256), mem::newSpinLock,
                () -> mem.stop(0), () -> mem.tryStop(0),
                () -> item.add(0, 1), () -> item.tryAdd(0, 1), () -> item.compareAndStore(0, 1, 2),
                () -> item.compareAndStoreRelease(0, 1, 2), () -> item.tryCompareAndStore(0, 1, 2),
                () -> item.compare2AndStore(0, 1, 0, 1, 2), () -> item.tryCompare2AndStore(0, 1, 0, 1, 2),
                () -> item.get(0, 0), () -> item.sum(0), () -> item.setStopped(stoppedBeforeClose, 0, 5),
                list::newNode, () -> list.push(node), list::pop, () -> list.drain(0, s -> { }),
                () -> list.migrate(0, mem.slices() - 1, 1),
                () -> ring.write(MemorySegment.ofArray(new byte[8])), lock::lock);
        for (int i = 0; i < refused.size(); i++) {
            IllegalStateException e = assertThrows(IllegalStateException.class, refused.get(i), "call " + i + " after close");
            assertTrue(e.getMessage().contains(closed), e.getMessage());
        }
        // Finishing earlier work is harmless (the memory was given back: nothing to restart or release) ...
        stoppedBeforeClose.close();
        lock.unlock(held[0]);
        // ... and what was in the memory is gone: reading it is refused, never garbage.
        for (Executable read : List.<Executable>of(() -> mem.isStopped(cpu), () -> lock.isLocked(held[0]),
                () -> ring.drain((i, b, l) -> { }))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, read);
            assertTrue(e.getMessage().contains(closed), e.getMessage());
        }
    }
}
