package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.testsupport.Freezer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 18, defect 3 (lost wake-up): a pool of one object, a releaser that acquires and
 * releases it in a loop, frozen at a random point with the cgroup-v1 freezer; while it is
 * frozen a waiter starts {@code acquire(2 s)} and parks; then the releaser is thawed and
 * stops after the release it was in. The waiter must get the object: no waiter may time
 * out while the object is free. Before the fix the releaser read the waiter count before
 * its push committed, and a waiter that counted itself in between slept beside the free
 * object until its timeout.
 *
 * <p>The child JVM runs with {@code -XX:GuaranteedSafepointInterval=0}: a thread frozen
 * in Java code would otherwise hold up the periodic safepoint, and with it the thread that
 * has to thaw it. Skipped (visibly) where the freezer is missing or not writable.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PoolWakeUpFreezerTest {
    static final int ROUNDS = 100;

    @Test
    void noWaiterTimesOutWhileTheObjectIsFree() throws IOException {
        assumeTrue(Freezer.unavailableReason().isEmpty(), () -> "skipped: " + Freezer.unavailableReason().orElseThrow());
        try (Freezer group = Freezer.create("pools-wakeup")) {
            List<String> flags = new ArrayList<>(ChildJvm.parentModeFlags());
            flags.addAll(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:GuaranteedSafepointInterval=0", "-Xms256m"));
            ChildJvm.Result r = ChildJvm.run(Child.class, flags, Map.of(), Duration.ofSeconds(200),
                    group.dir().toString(), Integer.toString(ROUNDS)).requireSuccess();
            assertEquals(List.of(), r.values("lost"), "a waiter timed out while the object was free\n" + r.describe());
            assertEquals(String.valueOf(ROUNDS), r.value("rounds"), r.describe());
            // Not vacuous: in enough rounds the waiter really parked while the releaser was frozen.
            assertTrue(Integer.parseInt(r.value("parkedRounds")) >= ROUNDS / 10, r.describe());
        }
    }

    /** The child: args = freezer group, rounds. Prints {@code lost=round} for each lost wake-up. */
    public static final class Child {
        static volatile boolean run, quit;

        public static void main(String[] args) throws Exception {
            Freezer group = Freezer.open(Path.of(args[0]));
            int rounds = Integer.parseInt(args[1]);
            PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 1);
            SynchronousQueue<Object> started = new SynchronousQueue<>();
            Thread releaser = Thread.ofPlatform().name("pools-releaser").start(() -> {
                try {
                    // First use before joining the group: threads this thread starts lazily
                    // (a Cleaner's) would join the group with it and freeze too.
                    pool.release(pool.acquire());
                    long tid = Freezer.currentTid();
                    group.join(tid);
                    List<Long> tasks = group.tasks();
                    if (!tasks.equals(List.of(tid))) {
                        throw new AssertionError("the freezer group holds more than the releaser: " + tasks);
                    }
                    started.put(Boolean.TRUE);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                while (!quit) {
                    if (run) {
                        Object o = pool.acquire();
                        if (o != null) {
                            pool.release(o);
                        }
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
            started.take();
            SynchronousQueue<Object> go = new SynchronousQueue<>(), result = new SynchronousQueue<>();
            Object none = new Object();
            Thread waiter = Thread.ofPlatform().name("pools-waiter").start(() -> {
                try {
                    while (go.take() != none) {
                        Object got = pool.acquire(TimeScale.seconds(2));
                        result.put(got == null ? none : got);
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            // The freezing and thawing happen in a shell: a JVM thread that froze the releaser
            // could itself be held at a safepoint (a handshake, a deoptimization) that waits
            // for the frozen thread, and then nobody would thaw it.
            Freezer.Cycles freezer = group.cyclesFromOutside(Duration.ofMillis(50));
            run = true; // warm up the releaser's loop before the first freeze
            Thread.sleep(300);
            int parkedRounds = 0;
            for (int round = 0; round < rounds; round++) {
                run = true;
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(50_000, 3_000_000));
                freezer.freeze();
                run = false; // once thawed, the releaser finishes its acquire and release, then idles
                go.put(Boolean.TRUE);
                while (!freezer.thawReported()) {
                    if (waiter.getState() == Thread.State.TIMED_WAITING && pool.slotPool().waiters() > 0) {
                        // parked while the releaser is still frozen?
                        if (group.isFrozen()) {
                            parkedRounds++;
                        }
                        break;
                    }
                    Thread.onSpinWait();
                }
                freezer.awaitThawed();
                Object got = result.poll(TimeScale.millis(10_000), TimeUnit.MILLISECONDS);
                if (got == null) {
                    throw new AssertionError("the waiter did not return within " + TimeScale.seconds(10) + " in round " + round);
                }
                if (got == none) {
                    Object free = pool.acquire();
                    ChildJvm.emit("lost", round + (free != null ? " (acquire() right after returned it)" : ""));
                    if (free != null) {
                        pool.release(free);
                    }
                } else {
                    pool.release(got);
                }
            }
            freezer.close();
            quit = true;
            go.put(none);
            releaser.join();
            waiter.join();
            ChildJvm.emit("rounds", rounds);
            ChildJvm.emit("parkedRounds", parkedRounds);
        }
    }
}
