package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.structures.CounterSlabs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PerCpuCounterTest {

    /** Runs body(0..n-1) on n platform or virtual threads, all released together; rethrows the first failure. */
    static void runThreads(int n, boolean virtual, IntConsumer body) throws InterruptedException {
        runThreads(virtual ? 0 : n, virtual ? n : 0, body);
    }

    /**
     * Runs body(0..platform+virtual-1), ids below {@code platform} on platform threads and the
     * others on virtual threads, all released together; rethrows the first failure.
     */
    static void runThreads(int platform, int virtual, IntConsumer body) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < platform + virtual; t++) {
            int id = t;
            Runnable r = () -> {
                try {
                    go.await();
                    body.accept(id);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            threads.add(id < platform ? Thread.ofPlatform().start(r) : Thread.ofVirtual().start(r));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void concurrentAddsSumExactly(boolean virtual) throws Exception {
        PerCpuCounter a = new PerCpuCounter();
        PerCpuCounter b = new PerCpuCounter();
        int threads = virtual ? 64 : 8;
        int perThread = virtual ? 20_000 : 150_000;
        runThreads(threads, virtual, id -> {
            for (int i = 0; i < perThread; i++) {
                a.increment();
                b.add(i % 11 - 3);          // negative and positive deltas
                if ((i & 1023) == 0) {
                    Thread.yield();         // move virtual threads between carriers
                }
            }
            b.decrement();
        });
        long perThreadB = 0;
        for (int i = 0; i < perThread; i++) {
            perThreadB += i % 11 - 3;
        }
        assertEquals((long) threads * perThread, a.sum());
        assertEquals(threads * (perThreadB - 1), b.sum());
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void sumThenResetIsExactUnderConcurrentAdds(boolean virtual) throws Exception {
        PerCpuCounter c = new PerCpuCounter();
        PerCpuCounter neighbour = new PerCpuCounter();   // same slab: its adds race the stops too
        int writers = virtual ? 32 : 3;
        int perWriter = virtual ? 10_000 : 120_000;
        AtomicBoolean done = new AtomicBoolean();
        long[] collected = new long[1];
        int[] resets = new int[1];
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                collected[0] += c.sumThenReset();
                resets[0]++;
                Thread.onSpinWait();
            }
        });
        runThreads(writers, virtual, id -> {
            for (int i = 0; i < perWriter; i++) {
                c.add(1 + (i % 5));
                neighbour.increment();
            }
        });
        done.set(true);
        reader.join();
        long expected = 0;
        for (int i = 0; i < perWriter; i++) {
            expected += 1 + (i % 5);
        }
        expected *= writers;
        assertTrue(resets[0] > 1, "the reader ran " + resets[0] + " times");
        assertEquals(expected, collected[0] + c.sum(), "sumThenReset results + final sum");
        assertEquals((long) writers * perWriter, neighbour.sum());
        System.out.println("sumThenReset: " + resets[0] + " resets while " + writers
                + (virtual ? " virtual" : " platform") + " writers ran; " + Rseq.status().fallbacks());
    }

    @Test
    void resetWhileWritersRunThenKeepsLaterAdds() throws Exception {
        PerCpuCounter c = new PerCpuCounter();
        c.add(1_000);
        c.reset();
        assertEquals(0, c.sum());
        AtomicBoolean done = new AtomicBoolean();
        int[] resets = new int[1];
        Thread resetter = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                c.reset();
                resets[0]++;
            }
        });
        runThreads(2, false, id -> {
            for (int i = 0; i < 50_000; i++) {
                c.add(2);
                c.add(-1);
            }
        });
        done.set(true);
        resetter.join();
        assertTrue(resets[0] > 0);
        c.reset();
        assertEquals(0, c.sum());
        c.add(7);
        assertEquals(7, c.sum());
        assertEquals(7, c.sumThenReset());
        assertEquals(0, c.sum());
        assertEquals(0, c.sumThenReset());
    }

    @Test
    void numberConversionsAndToString() {
        PerCpuCounter c = new PerCpuCounter();
        assertEquals(0, c.sum());
        assertEquals("0", c.toString());
        long v = Integer.MAX_VALUE + 5L;
        c.add(v);
        assertEquals(v, c.sum());
        assertEquals(v, c.longValue());
        assertEquals((int) v, c.intValue());
        assertEquals((float) v, c.floatValue());
        assertEquals((double) v, c.doubleValue());
        assertEquals(Long.toString(v), c.toString());
        c.add(-3 * v);
        assertEquals(-2 * v, c.sum());
        assertEquals(Long.toString(-2 * v), c.toString());
        assertEquals((int) (-2 * v), c.intValue());
        c.increment();
        c.decrement();
        c.decrement();
        assertEquals(-2 * v - 1, c.longValue());
        assertEquals(-2 * v - 1, c.sumThenReset());
        assertEquals(0, c.sum());
        assertInstanceOf(Number.class, c);
    }

    @Test
    void unreachableCountersGiveTheirMemoryBack() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Rseq.isRseqMode(),
                "portable-mode counters are LongAdders and take no slab word");
        int n = 200_000;
        long before = settledLiveCounters();   // earlier tests' garbage counters cleaned first
        List<PerCpuCounter> counters = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            PerCpuCounter c = new PerCpuCounter();
            c.add(i + 1);                  // leave non-zero words behind
            counters.add(c);
        }
        assertTrue(CounterSlabs.liveCounters() >= n, "live: " + CounterSlabs.liveCounters());
        int slabs = CounterSlabs.slabCount();
        assertTrue(slabs >= 2, "200,000 counters need two slabs of " + CounterSlabs.COUNTERS_PER_SLAB);
        assertEquals(200_000L * 200_001L / 2, counters.stream().mapToLong(PerCpuCounter::sum).sum());
        counters = null;
        long live = awaitLiveAtMost(before + 1_000);
        assertTrue(live <= before + 1_000, "live counters after GC: " + live + ", before: " + before);

        // The words are reused (no new slab) and were zeroed.
        List<PerCpuCounter> again = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            again.add(new PerCpuCounter());
        }
        assertEquals(slabs, CounterSlabs.slabCount(), "freed words must be reused");
        for (PerCpuCounter c : again) {
            assertEquals(0, c.sum());
        }
        again = null;
        awaitLiveAtMost(before + 1_000);
    }

    /** Live counters once the cleaner has caught up with what is garbage now (bounded wait). */
    static long settledLiveCounters() throws InterruptedException {
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(10);
        long previous = -1, live;
        while ((live = CounterSlabs.liveCounters()) != previous && System.nanoTime() < deadline) {
            previous = live;
            System.gc();
            Thread.sleep(100);
        }
        return live;
    }

    static long awaitLiveAtMost(long target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(30);
        long live;
        while ((live = CounterSlabs.liveCounters()) > target && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        return live;
    }

    @Test
    void serializationRoundTrip() throws Exception {
        PerCpuCounter c = new PerCpuCounter();
        c.add(123_456_789_012L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
            out.writeObject(c);      // a second reference resolves to the same copy
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            PerCpuCounter copy = (PerCpuCounter) in.readObject();
            assertSame(copy, in.readObject());
            assertNotSame(c, copy);
            assertEquals(123_456_789_012L, copy.sum());
            copy.increment();
            assertEquals(123_456_789_013L, copy.sum());
            assertEquals(123_456_789_012L, c.sum());
        }
    }
}
