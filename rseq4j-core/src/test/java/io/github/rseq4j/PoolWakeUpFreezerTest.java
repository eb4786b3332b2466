package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_INT;
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
    static final Path FREEZER = Path.of("/sys/fs/cgroup/freezer");
    static final int ROUNDS = 100;

    @Test
    void noWaiterTimesOutWhileTheObjectIsFree() throws IOException {
        assumeTrue(Files.isWritable(FREEZER.resolve("tasks")),
                "needs the cgroup-v1 freezer, writable (root): " + FREEZER + " is missing or read-only");
        Path group = FREEZER.resolve("pools-wakeup-" + ProcessHandle.current().pid());
        Files.createDirectory(group);
        try {
            List<String> flags = new ArrayList<>(ChildJvm.parentModeFlags());
            flags.addAll(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:GuaranteedSafepointInterval=0", "-Xms256m"));
            ChildJvm.Result r = ChildJvm.run(Child.class, flags, Map.of(), Duration.ofSeconds(200),
                    group.toString(), Integer.toString(ROUNDS)).requireSuccess();
            assertEquals(List.of(), r.values("lost"), "a waiter timed out while the object was free\n" + r.describe());
            assertEquals(String.valueOf(ROUNDS), r.value("rounds"), r.describe());
            // Not vacuous: in enough rounds the waiter really parked while the releaser was frozen.
            assertTrue(Integer.parseInt(r.value("parkedRounds")) >= ROUNDS / 10, r.describe());
        } finally {
            thawAndRemove(group);
        }
    }

    static void thawAndRemove(Path group) throws IOException {
        if (Files.isDirectory(group)) {
            Files.writeString(group.resolve("freezer.state"), "THAWED");
            for (int i = 0; i < 100; i++) {
                try {
                    Files.delete(group);
                    return;
                } catch (IOException busy) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // the child's tasks are still leaving
                }
            }
            Files.delete(group);
        }
    }

    /** The child: args = freezer group, rounds. Prints {@code lost=round} for each lost wake-up. */
    public static final class Child {
        private static final MethodHandle GETTID = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().findOrThrow("gettid"), FunctionDescriptor.of(JAVA_INT));
        static volatile boolean run, quit;

        public static void main(String[] args) throws Exception {
            Path group = Path.of(args[0]);
            int rounds = Integer.parseInt(args[1]);
            PerCpuPool<Object> pool = new PerCpuPool<>(Object::new, 1);
            SynchronousQueue<Object> started = new SynchronousQueue<>();
            Thread releaser = Thread.ofPlatform().name("pools-releaser").start(() -> {
                try {
                    // First use before joining the group: threads this thread starts lazily
                    // (a Cleaner's) would join the group with it and freeze too.
                    pool.release(pool.acquire());
                    int tid = (int) GETTID.invokeExact();
                    Files.writeString(group.resolve("tasks"), Integer.toString(tid));
                    String tasks = Files.readString(group.resolve("tasks")).strip();
                    if (!tasks.equals(Integer.toString(tid))) {
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
                        Object got = pool.acquire(Duration.ofSeconds(2));
                        result.put(got == null ? none : got);
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            // The freezing and thawing happen in a shell: a JVM thread that froze the releaser
            // could itself be held at a safepoint (a handshake, a deoptimization) that waits
            // for the frozen thread, and then nobody would thaw it.
            Process freezer = new ProcessBuilder("/bin/sh", "-c", FREEZE_THEN_THAW, "sh",
                    group.resolve("freezer.state").toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Writer toFreezer = new OutputStreamWriter(freezer.getOutputStream(), StandardCharsets.US_ASCII);
            BufferedReader fromFreezer = new BufferedReader(new InputStreamReader(freezer.getInputStream(), StandardCharsets.US_ASCII));
            run = true; // warm up the releaser's loop before the first freeze
            Thread.sleep(300);
            int parkedRounds = 0;
            for (int round = 0; round < rounds; round++) {
                run = true;
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(50_000, 3_000_000));
                toFreezer.write("round\n");
                toFreezer.flush();
                expect("frozen", fromFreezer.readLine());
                run = false; // once thawed, the releaser finishes its acquire and release, then idles
                go.put(Boolean.TRUE);
                while (!fromFreezer.ready()) {
                    if (waiter.getState() == Thread.State.TIMED_WAITING && pool.slotPool().waiters() > 0) {
                        // parked while the releaser is still frozen?
                        if (Files.readString(group.resolve("freezer.state")).strip().equals("FROZEN")) {
                            parkedRounds++;
                        }
                        break;
                    }
                    Thread.onSpinWait();
                }
                expect("thawed", fromFreezer.readLine());
                Object got = result.poll(10, TimeUnit.SECONDS);
                if (got == null) {
                    throw new AssertionError("the waiter did not return within 10 s in round " + round);
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
            toFreezer.close();
            freezer.waitFor();
            quit = true;
            go.put(none);
            releaser.join();
            waiter.join();
            ChildJvm.emit("rounds", rounds);
            ChildJvm.emit("parkedRounds", parkedRounds);
        }

        /**
         * For each line read: freeze the group (asking again while the kernel reports
         * FREEZING), print "frozen", wait 50 ms, thaw, print "thawed".
         */
        private static final String FREEZE_THEN_THAW = """
                while read line; do
                  echo FROZEN > "$1"
                  while [ "$(cat "$1")" != FROZEN ]; do echo FROZEN > "$1"; done
                  echo frozen
                  sleep 0.05
                  echo THAWED > "$1"
                  echo thawed
                done
                """;

        private static void expect(String expected, String line) {
            if (!expected.equals(line)) {
                throw new AssertionError("the freezer shell said " + line + ", expected " + expected);
            }
        }
    }
}
