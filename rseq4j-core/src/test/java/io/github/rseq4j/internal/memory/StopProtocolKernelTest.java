package io.github.rseq4j.internal.memory;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.StoppedSlice;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuItem;
import io.github.rseq4j.PerCpuMemory;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;
import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The core guarantee of the stop protocol, against the real kernel: once
 * {@code stop(i)} returns, slice i's copy does not change until {@code start(i)}, while
 * other threads keep adding (their adds commit elsewhere or take the fallback path),
 * and every add counts exactly once.
 *
 * <p>The stopper also writes the stopped copy (+1000 each time): a critical section that
 * read the copy before the stop and committed after it would overwrite that write, and
 * the final total would come up short. The same check runs with the affinity fence in
 * {@code FencesTest} (child JVM with {@code -Drseq4j.fence=affinity}).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public class StopProtocolKernelTest {
    /** Rounds the stopper must exceed in a hammer window (FencesTest asks fewer of the slower affinity fence). */
    static final int MIN_ROUNDS = 10;

    /** What one hammer run saw. */
    public record Outcome(long rounds, long adds, long stopperAdded, long sum, long minAddsPerThread,
                          List<String> violations, RseqStatus.Fallbacks before, RseqStatus.Fallbacks after) {
        public long expected() {
            return adds + stopperAdded;
        }

        @Override
        public String toString() {
            return "rounds=" + rounds + " adds=" + adds + " stopperAdded=" + stopperAdded + " sum=" + sum
                    + " expected=" + expected() + " minAddsPerThread=" + minAddsPerThread
                    + " violations=" + violations.size() + (violations.isEmpty() ? "" : " " + violations.subList(0, Math.min(5, violations.size())))
                    + " stoppedFallbacks=" + (after.stopped() - before.stopped())
                    + " portable=" + (after.portable() - before.portable()) + " aborts=" + (after.aborts() - before.aborts());
        }
    }

    /**
     * {@code adders} threads add 1 to one word as fast as they can for {@code millis} ms while
     * the calling thread stops each slice in turn, checks that its copy stays frozen for
     * about 20 microseconds, adds 1000 to it directly, and restarts it.
     */
    private static boolean allProgressed(AtomicLongArray perThread, long[] atStart) {
        for (int t = 0; t < atStart.length; t++) {
            if (perThread.get(t) <= atStart[t] + 64) {
                return false;
            }
        }
        return true;
    }

    public static Outcome hammer(IndexMode mode, int adders, boolean virtualAdders, long millis)
            throws InterruptedException {
        PerCpuMemory mem = new PerCpuMemory(mode);
        PerCpuItem item = mem.newItem(8);
        AtomicBoolean done = new AtomicBoolean();
        AtomicLongArray perThread = new AtomicLongArray(adders);
        List<Thread> threads = new ArrayList<>();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        RseqStatus.Fallbacks before = Rseq.status().fallbacks();
        for (int t = 0; t < adders; t++) {
            int me = t;
            Runnable body = () -> {
                long n = 0;
                try {
                    while (!done.get()) {
                        item.add(0, 1);
                        n++;
                        if ((n & 63) == 0) {
                            perThread.lazySet(me, n);
                            if (virtualAdders) {
                                // A timed park, not Thread.yield(): two carriers whose virtual
                                // threads only yield can keep re-running them while the other
                                // virtual threads wait in the scheduler's queue.
                                java.util.concurrent.locks.LockSupport.parkNanos(1_000);
                            }
                        }
                    }
                } catch (RuntimeException | Error e) {
                    // a violation, not a miscount: the adds so far stay counted (finally)
                    violations.add("adder " + me + " threw " + e);
                } finally {
                    perThread.set(me, n);
                }
            };
            threads.add(virtualAdders ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body));
        }
        long rounds = 0, stopperAdded = 0;
        // The window: at least `millis`, and until every adder has made progress inside it and
        // the stopper has made more than MIN_ROUNDS rounds (a loaded machine may leave a thread
        // unscheduled for a while: FencesTest's affinity-fence child once made 1 round in
        // 1.5 s at load 15), at most 20 s.
        long start = System.nanoTime();
        long deadline = start + TimeScale.millis(millis) * 1_000_000, cap = start + TimeScale.nanosOfSeconds(20);
        long[] atStart = new long[adders];
        for (int t = 0; t < adders; t++) {
            atStart[t] = perThread.get(t);
        }
        try {
            while (System.nanoTime() < deadline
                    || ((!allProgressed(perThread, atStart) || rounds <= MIN_ROUNDS) && System.nanoTime() < cap)) {
                for (int i = 0; i < mem.slices(); i++) {
                    StoppedSlice held;
                    if ((rounds & 1) == 0) {
                        held = mem.stop(i);
                    } else {
                        held = mem.tryStop(i).orElse(null);
                    }
                    if (held == null) {
                        continue;
                    }
                    try {
                        if (!mem.isStopped(i)) {
                            violations.add("slice " + i + " not stopped after stop()");
                        }
                        long v1 = item.get(i, 0);
                        long until = System.nanoTime() + 20_000L * TimeScale.factor();
                        while (System.nanoTime() < until) {
                            long v = item.get(i, 0);
                            if (v != v1) {
                                violations.add("slice " + i + " changed while stopped: " + v1 + " -> " + v);
                                break;
                            }
                        }
                        item.setStopped(held, 0, v1 + 1000);
                        stopperAdded += 1000;
                        for (int k = 0; k < 200; k++) {
                            Thread.onSpinWait();
                        }
                        long v2 = item.get(i, 0);
                        if (v2 != v1 + 1000) {
                            violations.add("slice " + i + " lost the stopper's write: " + (v1 + 1000) + " -> " + v2);
                        }
                    } finally {
                        held.close();
                    }
                }
                rounds++;
            }
        } finally {
            done.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }
        long adds = 0, min = Long.MAX_VALUE;
        for (int t = 0; t < adders; t++) {
            adds += perThread.get(t);
            min = Math.min(min, perThread.get(t));
        }
        for (int i = 0; i < mem.slices(); i++) {
            if (mem.isStopped(i)) {
                violations.add("slice " + i + " left stopped");
            }
        }
        long sum = item.sum(0);
        mem.close();
        return new Outcome(rounds, adds, stopperAdded, sum, min, List.copyOf(violations), before, Rseq.status().fallbacks());
    }

    static void check(Outcome o) {
        System.out.println("stop protocol: " + o);
        assertTrue(o.violations().isEmpty(), o.toString());
        assertEquals(o.expected(), o.sum(), "every add counted exactly once: " + o);
        assertTrue(o.rounds() > MIN_ROUNDS, "the stopper made progress: " + o);
        assertTrue(o.minAddsPerThread() > 0, "every adder made progress: " + o);
    }

    @Test
    void stoppedSlicesStayFrozenCpuId() throws Exception {
        check(hammer(IndexMode.CPU_ID, 4, false, 1500));
    }

    @Test
    void stoppedSlicesStayFrozenConcurrencyId() throws Exception {
        assumeTrue(!Rseq.isRseqMode() || Rseq.status().kernel().mmCid(), "mm_cid needs Linux 6.3+");
        check(hammer(IndexMode.CONCURRENCY_ID, 4, false, 1500));
    }

    @Test
    void stoppedSlicesStayFrozenWithVirtualThreadAdders() throws Exception {
        check(hammer(IndexMode.CPU_ID, 8, true, 1000));
    }

    /**
     * Child under {@code -Drseq4j.fence=affinity}, pinned to one CPU: it cannot move to the
     * other CPUs, so fencing their slices fails. Reports what a {@code sumThenReset} that
     * meets such a failure leaves behind.
     */
    public static final class FenceFailureChild {
        public static void main(String[] args) {
            List<Integer> allowed = CpuSets.allowed();
            int home = allowed.getFirst();
            ChildJvm.emit("pinned", CpuSets.setAffinity(List.of(home)) == 0);
            ChildJvm.emit("fence", Rseq.status().fence().name());
            PerCpuCounter c = new PerCpuCounter();
            for (int i = 0; i < 1000; i++) {
                c.increment();
            }
            String thrown = "none";
            try {
                c.sumThenReset();
            } catch (IllegalStateException e) {
                thrown = "IllegalStateException";
            }
            ChildJvm.emit("thrown", thrown);
            ChildJvm.emit("sumAfter", c.sum());
            PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID);
            int unreachable = -1;
            for (int i = 0; i < mem.slices() && unreachable < 0; i++) {
                if (i != home) {
                    unreachable = i;
                }
            }
            String stopThrown = "none";
            try {
                mem.stop(unreachable).close();
            } catch (IllegalStateException e) {
                stopThrown = "IllegalStateException";
            }
            ChildJvm.emit("stopThrown", stopThrown);
            ChildJvm.emit("stoppedAfterFailedFence", mem.isStopped(unreachable));
            c.increment();                         // must not hang on a slice left stopped
            ChildJvm.emit("sumAfterAdd", c.sum());
        }
    }

    /**
     * A stop whose fence fails (an affinity fence to a CPU the thread may not run on) rolls
     * the stop back: the slice is running again and the exception reaches the caller; and
     * a {@code sumThenReset} interrupted that way gives back what it had already taken.
     */
    @Test
    void aStopWhoseFenceFailsIsRolledBackAndSumThenResetLosesNothing() {
        assumeTrue(Platform.get().linux() && Platform.get().possibleCpus().size() >= 2, "needs Linux and 2+ CPUs");
        ChildJvm.Result r = ChildJvm.run(FenceFailureChild.class, List.of("-Drseq4j.fence=affinity"), Map.of(),
                Duration.ofSeconds(60)).requireSuccess();
        assumeTrue(!"NONE".equals(r.value("fence")), "no fences in the child (no rseq)\n" + r.describe());
        assertEquals("AFFINITY", r.value("fence"), r.describe());
        assertEquals("true", r.value("pinned"), r.describe());
        assertEquals("IllegalStateException", r.value("thrown"), r.describe());
        assertEquals("1000", r.value("sumAfter"), "a failed sumThenReset gives back what it took\n" + r.describe());
        assertEquals("IllegalStateException", r.value("stopThrown"), r.describe());
        assertEquals("false", r.value("stoppedAfterFailedFence"), "the failed stop was rolled back\n" + r.describe());
        assertEquals("1001", r.value("sumAfterAdd"), r.describe());
    }
}
