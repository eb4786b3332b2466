package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.github.rseq4j.PerCpuMemoryTest.pinned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Operations that cannot commit as a critical section still complete, exactly once, on
 * the stop-and-fence path (or, in portable mode, the per-slice lock path), and are
 * counted in {@link RseqStatus#fallbacks()}: a stopped slice (the operation goes to
 * another slice, or waits when every slice is stopped), too many aborts (forced in a child
 * JVM with {@code -Drseq4j.maxAttempts=1} and a thread that fences all CPUs in a loop),
 * and portable mode itself. The "not registered" reason is covered by
 * {@code OwnRegistrationKernelTest}.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FallbackTest {

    private static RseqStatus.Fallbacks counts() {
        return Rseq.status().fallbacks();
    }

    @Test
    void operationsOnAStoppedSliceCompleteOnAnotherSlice() throws Throwable {
        List<Integer> cpus = CpuSets.allowed();
        assumeTrue(cpus.size() >= 2, "needs two CPUs: with one, the operation waits (see the next test)");
        int c = cpus.getFirst();
        final int adds = 1000;
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem item = mem.newItem(16);
            PerCpuList list = mem.newList(8);
            PerCpuRing ring = mem.newRing(1024);
            PerCpuSpinLock lock = mem.newSpinLock();
            RseqStatus.Fallbacks before = counts();
            StoppedSlice held = mem.stop(c);
            AtomicLong ops = new AtomicLong();
            try {
                pinned(c, () -> {
                    for (int i = 0; i < adds; i++) {
                        assertNotEquals(c, item.add(0, 1), "an add on a stopped slice must go elsewhere");
                    }
                    ops.addAndGet(adds);
                    long raw = item.tryAdd(0, 1);
                    long rawCas = item.tryCompareAndStore(8, 0, 1);
                    long rawCas2 = item.tryCompare2AndStore(8, 0, 0, 0, 1);
                    if (Rseq.isRseqMode()) {
                        assertEquals(RseqResult.STOPPED, raw, "one raw attempt on the stopped slice");
                        assertEquals(RseqResult.STOPPED, rawCas);
                        assertEquals(RseqResult.STOPPED, rawCas2);
                    } else {
                        assertEquals(RseqResult.NOT_REGISTERED, raw);
                        assertEquals(RseqResult.NOT_REGISTERED, rawCas);
                        assertEquals(RseqResult.NOT_REGISTERED, rawCas2);
                    }
                    long cas = item.compareAndStore(8, 0, 5);
                    assertTrue(cas >= 0 && cas != c, "compare-and-store elsewhere: " + cas);
                    MemorySegment node = list.newNode();
                    int pushedTo = list.push(node);
                    assertNotEquals(c, pushedTo);
                    MemorySegment popped = list.pop();
                    assertNotNull(popped, "pop also avoids the stopped slice, and finds the node there");
                    assertEquals(node.address(), popped.address());
                    long w = ring.write(MemorySegment.ofArray(new byte[10]));
                    assertTrue(w >= 0 && w != c, "ring write elsewhere: " + w);
                    int l = lock.lock();
                    assertNotEquals(c, l);
                    lock.unlock(l);
                    ops.addAndGet(5);
                });
                assertEquals(0, item.get(c, 0), "the stopped copy did not change");
                assertEquals(0, item.get(c, 8));
                assertEquals(0, ring.used(c));
            } finally {
                held.close();
            }
            assertEquals(adds, item.sum(0), "exact total");
            assertEquals(5, item.sum(8));
            RseqStatus.Fallbacks after = counts();
            if (Rseq.isRseqMode()) {
                assertTrue(after.stopped() - before.stopped() >= ops.get(),
                        "fallbacks().stopped() grew by " + (after.stopped() - before.stopped()) + ", ops " + ops.get());
            } else {
                assertTrue(after.portable() - before.portable() >= ops.get(),
                        "fallbacks().portable() grew by " + (after.portable() - before.portable()));
            }
        }
    }

    @Test
    void whenEverySliceIsStoppedAnOperationWaitsThenCompletes() throws Exception {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem item = mem.newItem(8);
            RseqStatus.Fallbacks before = counts();
            List<StoppedSlice> held = new ArrayList<>();
            for (int i = 0; i < mem.slices(); i++) {
                held.add(mem.stop(i));
            }
            AtomicBoolean finished = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread adder = Thread.ofPlatform().start(() -> {
                try {
                    item.add(0, 1);
                    finished.set(true);
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            try {
                Thread.sleep(TimeScale.millis(300));
                assertFalse(finished.get(), "no slice is free: the add must wait");
                assertTrue(adder.isAlive());
                if (Rseq.isRseqMode()) {
                    assertTrue(counts().stopped() > before.stopped(), "counted as a STOPPED fallback while it waits");
                }
                for (int i = 0; i < mem.slices(); i++) {
                    assertEquals(0, item.get(i, 0), "nothing committed while every slice is stopped");
                }
            } finally {
                held.forEach(StoppedSlice::close);
            }
            adder.join(TimeScale.millis(10_000));
            assertTrue(finished.get(), "the add completed once the slices were started: " + failure.get());
            assertEquals(1, item.sum(0));
        }
    }

    /**
     * The thread holds its own CPU's slice stopped and another thread holds every other
     * slice: the fallback must not wait for the slice of the CPU it runs on (its own thread
     * holds it, so that wait would never end) but take the first slice the other thread frees.
     */
    @Test
    void aFallbackNeverWaitsOnASliceItsOwnThreadHolds() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            assumeTrue(mem.slices() >= 2, "needs 2 slices");
            int mine = CpuSets.allowed().getFirst();
            assumeTrue(mine < mem.slices(), "CPU " + mine + " has no slice");
            PerCpuItem item = mem.newItem(8);
            CountDownLatch othersHeld = new CountDownLatch(1);
            CountDownLatch mineHeld = new CountDownLatch(1);
            AtomicBoolean othersReleased = new AtomicBoolean();
            AtomicReference<Throwable> holderFailure = new AtomicReference<>();
            Thread holder = Thread.ofPlatform().start(() -> {
                List<StoppedSlice> others = new ArrayList<>();
                try {
                    for (int i = 0; i < mem.slices(); i++) {
                        if (i != mine) {
                            others.add(mem.stop(i));
                        }
                    }
                    othersHeld.countDown();
                    mineHeld.await();
                    Thread.sleep(300);          // the add below must wait for this
                    othersReleased.set(true);
                } catch (Throwable e) {
                    holderFailure.set(e);
                } finally {
                    others.forEach(StoppedSlice::close);
                }
            });
            assertTrue(othersHeld.await(TimeScale.millis(30_000), TimeUnit.MILLISECONDS), "the holder stopped the other slices");
            AtomicLong went = new AtomicLong(-1);
            pinned(mine, () -> {
                try (StoppedSlice held = mem.stop(mine)) {   // held by this thread
                    mineHeld.countDown();
                    went.set(item.add(0, 1));                  // lands on the slice we hold, were it not for the fallback
                    assertTrue(othersReleased.get(), "the add completed only once another slice was free");
                    assertEquals(0, item.getStopped(held, 0), "nothing was added to the slice this thread holds");
                }
            });
            holder.join();
            assertEquals(null, holderFailure.get());
            assertNotEquals(mine, went.get());
            assertTrue(went.get() >= 0 && went.get() < mem.slices(), "slice " + went.get());
            assertEquals(1, item.get(Math.toIntExact(went.get()), 0));
            assertEquals(1, item.sum(0));
            for (int i = 0; i < mem.slices(); i++) {
                assertFalse(mem.isStopped(i), "slice " + i + " left stopped");
            }
        }
    }

    @Test
    void withoutStoppedSlicesOperationsTakeTheirNormalPath() throws Throwable {
        try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
            PerCpuItem item = mem.newItem(8);
            PerCpuList list = mem.newList(8);
            PerCpuRing ring = mem.newRing(1024);
            PerCpuSpinLock lock = mem.newSpinLock();
            int cpu = CpuSets.allowed().getFirst();
            AtomicReference<RseqStatus.Fallbacks> before = new AtomicReference<>(), after = new AtomicReference<>();
            final int rounds = 100;
            pinned(cpu, () -> {
                item.add(0, 0); // a first use registers the thread where rseq4j owns registration
                before.set(counts());
                for (int i = 0; i < rounds; i++) {
                    item.add(0, 1);
                    item.compareAndStore(0, -1, 0); // fails its compare: still one operation
                    list.push(list.newNode());
                    assertNotNull(list.pop());
                    assertEquals(cpu, ring.write(MemorySegment.ofArray(new byte[8])));
                    lock.unlock(lock.lock());
                    ring.drain((x, b, l) -> { });
                }
                after.set(counts());
            });
            assertEquals(rounds, item.sum(0));
            long portable = after.get().portable() - before.get().portable();
            long rseqFallbacks = after.get().total() - before.get().total();
            if (Rseq.isRseqMode()) {
                assertEquals(0, portable);
                assertEquals(0, rseqFallbacks, "a registered thread with nothing stopped never falls back");
            } else {
                assertEquals(0, rseqFallbacks);
                assertEquals(6L * rounds, portable, "portable mode: every operation counted once");
            }
        }
    }

    /** Child: adds under -Drseq4j.maxAttempts=1 while a thread fences every CPU in a loop. */
    public static final class AbortingChild {
        public static void main(String[] args) throws Exception {
            RseqStatus s0 = Rseq.status();
            ChildJvm.emit("mode", s0.mode());
            ChildJvm.emit("maxAttempts", JitConstants.RUNTIME.maxAttempts());
            PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID);
            PerCpuItem item = mem.newItem(8);
            AtomicBoolean done = new AtomicBoolean();
            Thread fencer = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    JitConstants.RUNTIME.fences().fenceAll();
                }
            });
            final int threads = 4;
            long[] counts = new long[threads];
            List<Thread> ts = new ArrayList<>();
            long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(20);
            for (int t = 0; t < threads; t++) {
                int me = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    long n = 0;
                    while (n < 200_000 || (Rseq.status().fallbacks().aborted() < 100 && System.nanoTime() < deadline)) {
                        for (int k = 0; k < 1000; k++) {
                            item.add(0, 1);
                        }
                        n += 1000;
                    }
                    counts[me] = n;
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
            done.set(true);
            fencer.join();
            long expected = 0;
            for (long c : counts) {
                expected += c;
            }
            RseqStatus s = Rseq.status();
            ChildJvm.emit("expected", expected);
            ChildJvm.emit("sum", item.sum(0));
            ChildJvm.emit("aborted", s.fallbacks().aborted() - s0.fallbacks().aborted());
            ChildJvm.emit("aborts", s.fallbacks().aborts() - s0.fallbacks().aborts());
            ChildJvm.emit("fallbacks", s.fallbacks());
        }
    }

    @Test
    void abortedOperationsCompleteOnTheFallbackPath() {
        assumeTrue(Platform.get().linux(), "Linux only");
        ChildJvm.Result r = ChildJvm.run(AbortingChild.class, List.of("-Drseq4j.maxAttempts=1"), Map.of(),
                Duration.ofSeconds(90)).requireSuccess();
        System.out.println("maxAttempts=1 child: sum=" + r.value("sum") + " aborted=" + r.value("aborted")
                + " aborts=" + r.value("aborts") + " " + r.value("fallbacks"));
        assertEquals("1", r.value("maxAttempts"));
        assertEquals(r.value("expected"), r.value("sum"), "exact total\n" + r.describe());
        assumeTrue(r.value("mode").equals("RSEQ"), "the child has no rseq: nothing can abort");
        long aborted = Long.parseLong(r.value("aborted")), aborts = Long.parseLong(r.value("aborts"));
        assertTrue(aborted > 0, "with one attempt, an abort means the ABORTED fallback\n" + r.describe());
        assertTrue(aborts >= aborted, "each ABORTED fallback follows an abort counted by generated code\n" + r.describe());
    }

    /** Child: what rseq4j does with the given (bad) system properties, used twice. */
    public static final class BadSettingChild {
        public static void main(String[] args) {
            for (int use = 0; use < 2; use++) {
                try {
                    RseqStatus s = Rseq.status();
                    ChildJvm.emit("mode", s.mode());
                    ChildJvm.emit("problems", s.settingProblems());
                    ChildJvm.emit("requested", s.portableRequested() + " " + s.affinityFenceRequested());
                    PerCpuCounter c = new PerCpuCounter();
                    c.add(5);
                    ChildJvm.emit("sum", c.sum());
                } catch (Throwable t) {
                    ChildJvm.emit("error", t.toString());
                }
            }
        }
    }

    @Test
    void badSettingsAreReportedAndIgnoredNeverFatal() {
        String[][] cases = {
                {"-Drseq4j.mode=turbo", "-Drseq4j.mode=turbo ignored: accepted values are auto, rseq, portable; using auto"},
                {"-Drseq4j.maxAttempts=0", "-Drseq4j.maxAttempts=0 ignored: accepted values are whole numbers from 1 to 1000000; using 8"},
                {"-Drseq4j.maxAttempts=abc", "-Drseq4j.maxAttempts=abc ignored"},
                {"-Drseq4j.fence=bogus", "-Drseq4j.fence=bogus ignored: accepted values are auto, affinity; using auto"},
                {"-Drseq4j.stopWaitSeconds=0", "-Drseq4j.stopWaitSeconds=0 ignored: accepted values are whole numbers from 1 to 86400; using 10"},
                {"-Drseq4j.stopWaitSeconds=1.5", "-Drseq4j.stopWaitSeconds=1.5 ignored"},
        };
        for (String[] c : cases) {
            ChildJvm.Result r = ChildJvm.run(BadSettingChild.class, List.of(c[0]), Map.of(),
                    Duration.ofSeconds(60)).requireSuccess();
            assertEquals(List.of(), r.values("error"), "no exception, first use or later\n" + r.describe());
            assertEquals(List.of("5", "5"), r.values("sum"), "the library works with the default\n" + r.describe());
            assertTrue(r.values("problems").getFirst().contains(c[1]), "the problem names the property and the accepted values\n"
                    + r.describe());
            assertTrue(r.stderr().contains(c[1]), "logged once as a warning\n" + r.describe());
            assertEquals("false false", r.values("requested").getFirst(), "a rejected value asks for nothing\n" + r.describe());
        }
        for (String value : List.of("PORTABLE", "fallback")) {      // case-insensitive; fallback is the name before 0.1.0
            boolean affinity = value.equals("fallback");               // and the fence setting, seen through the status too
            List<String> flags = affinity ? List.of("-Drseq4j.mode=" + value, "-Drseq4j.fence=Affinity")
                    : List.of("-Drseq4j.mode=" + value);
            ChildJvm.Result forced = ChildJvm.run(BadSettingChild.class, flags, Map.of(),
                    Duration.ofSeconds(60)).requireSuccess();
            assertEquals("PORTABLE", forced.values("mode").getFirst(), "-Drseq4j.mode=" + value + "\n" + forced.describe());
            assertEquals("[]", forced.values("problems").getFirst());
            assertEquals("true " + affinity, forced.values("requested").getFirst(),
                    "RseqStatus says what the settings asked for\n" + forced.describe());
        }
    }

    /** Child: an add while this thread holds every slice, so that its fallback finds none free. */
    public static final class StopWaitChild {
        public static void main(String[] args) {
            try (PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID)) {
                PerCpuItem item = mem.newItem(8);
                List<StoppedSlice> held = new ArrayList<>();
                for (int i = 0; i < mem.slices(); i++) {
                    held.add(mem.stop(i));
                }
                long t0 = System.nanoTime();
                String thrown = "none";
                try {
                    item.add(0, 1);
                } catch (IllegalStateException e) {
                    thrown = e.getMessage();
                }
                ChildJvm.emit("waited_ms", (System.nanoTime() - t0) / 1_000_000);
                ChildJvm.emit("thrown", thrown);
                ChildJvm.emit("stopWaitSeconds", JitConstants.RUNTIME.settings().stopWaitSeconds());
                held.forEach(StoppedSlice::close);
                ChildJvm.emit("sum", item.sum(0));
            }
        }
    }

    /**
     * {@code -Drseq4j.stopWaitSeconds} bounds the fallback's wait for a free slice: with every
     * slice held by the caller itself, an add waits that long (not the default 10 s), then
     * throws saying so; nothing is added.
     */
    @Test
    void stopWaitSecondsBoundsTheFallbacksWaitForAFreeSlice() {
        ChildJvm.Result r = ChildJvm.run(StopWaitChild.class, List.of("-Drseq4j.stopWaitSeconds=1"), Map.of(),
                Duration.ofSeconds(60)).requireSuccess();
        assertEquals("1", r.value("stopWaitSeconds"), r.describe());
        assertTrue(r.value("thrown").contains("could be stopped for 1 s (-Drseq4j.stopWaitSeconds)"),
                "the add gave up after the setting's wait and said so\n" + r.describe());
        assertTrue(Long.parseLong(r.value("waited_ms")) >= 1000, "it waited the whole second\n" + r.describe());
        assertEquals("0", r.value("sum"), "nothing added\n" + r.describe());
    }
}
