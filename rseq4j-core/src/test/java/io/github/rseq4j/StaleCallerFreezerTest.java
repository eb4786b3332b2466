package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.testsupport.Freezer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 18, defect 1: a thread stalled with an operation for a memory that is then closed,
 * given back and reused by a new owner of the same size must write nothing into the new
 * owner's memory, and must get {@link IllegalStateException}.
 *
 * <p>A child JVM (which freezes its own worker with the cgroup-v1 freezer, so it runs with
 * {@code -XX:GuaranteedSafepointInterval=0} and a young generation it does not fill) plays
 * 20 rounds of: a worker adds 1 to an item of memory A in a loop; it is frozen; A is closed;
 * after the quarantine a memory B of the same size takes A's range (checked) and B's item
 * sits where A's did (checked); the worker is thawed and ends. B's item must still read 0
 * on every slice, and the worker must have ended with IllegalStateException. Two ways to
 * be stale: {@code before}, frozen after its open check and before its call (it spins there
 * until frozen); {@code inside}, frozen at a random moment while its operations run with a
 * long delay loop between the owner check and the commit (delay point 2), so it is almost
 * always frozen inside its critical section, which the kernel aborts when it resumes.
 *
 * <p>A thread frozen inside a critical downcall is, to the JVM, a thread running Java code
 * that never reaches a safepoint: any safepoint the child needs while the worker is frozen
 * (under load, a late JIT compilation's deoptimization, for example) stalls the child's main
 * thread until the freezer's watchdog thaws the worker after a few seconds. Such a round
 * proves nothing (the worker may have run again before A was closed), so it is counted as
 * <em>disturbed</em> and played again, up to three times the rounds in all; stale writes are
 * counted in every round, disturbed or not. So is a round in which B did not take A's range:
 * when the worker was frozen on the fallback path, holding a slice it had stopped, close()
 * hands that slice to it and A is given back only after the thaw (correctly), too late for B. The worker is a daemon thread, and a round
 * always closes A, so a failing child ends instead of hanging on a worker that never stops.
 */
class StaleCallerFreezerTest {
    static final int ROUNDS = 20;
    /** Iterations of the delay loop between the owner check and the commit ("inside"). */
    static final long DELAY_LOOPS = 50_000;

    @ParameterizedTest
    @ValueSource(strings = {"before", "inside"})
    void aFrozenStaleCallerWritesNothingIntoTheNextOwnersMemory(String variant) throws IOException {
        assumeTrue(Freezer.unavailableReason().isEmpty(), () -> "skipped: " + Freezer.unavailableReason().orElseThrow());
        assumeTrue(JitConstants.RSEQ, "skipped: portable mode never reuses a closed memory's range (its arena is closed)");
        try (Freezer group = Freezer.create("stale-" + variant)) {
            List<String> flags = new ArrayList<>(List.of("-XX:+UnlockDiagnosticVMOptions",
                    "-XX:GuaranteedSafepointInterval=0", "-Xmn160m"));
            flags.addAll(ChildJvm.parentModeFlags());
            ChildJvm.Result r = ChildJvm.run(Child.class, flags, Map.of(), Duration.ofMinutes(5),
                    variant, Integer.toString(ROUNDS), group.dir().toString()).requireSuccess();
            System.out.println("stale caller '" + variant + "': " + r.value("clean") + " clean rounds, "
                    + r.value("disturbed") + " disturbed and " + r.value("not_reused") + " without reuse (played again)");
            assertEquals(ROUNDS, Integer.parseInt(r.value("clean")), "rounds undisturbed by a safepoint in which B took A's range\n" + r.describe());
            assertEquals(ROUNDS, Integer.parseInt(r.value("reused")), "rounds in which B took A's range\n" + r.describe());
            assertEquals(0, Integer.parseInt(r.value("stale_writes")),
                    "rounds in which the stale worker wrote into B's item\n" + r.describe());
            assertEquals(ROUNDS, Integer.parseInt(r.value("stale_ise")),
                    "rounds in which the stale worker got IllegalStateException\n" + r.describe());
        }
    }

    /** The child JVM: {@code variant rounds freezer-group-dir}. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            String variant = args[0];
            int rounds = Integer.parseInt(args[1]);
            Freezer group = Freezer.open(Path.of(args[2]));
            boolean inside = variant.equals("inside");
            SliceOps ops = inside
                    ? SliceOps.of(JitConstants.CONTEXT.withOperations(JitConstants.RUNTIME.generateWithDelay(IndexField.CPU_ID, 2, DELAY_LOOPS)))
                    : SliceOps.DEFAULT;
            for (int warm = 0; warm < 10; warm++) {
                round(ops, inside, null);   // compile the loops before any thread is frozen
            }
            int clean = 0, disturbed = 0, notReused = 0, reused = 0, staleWrites = 0, staleIse = 0;
            for (int i = 0; clean < rounds && i < 3 * rounds; i++) {
                Outcome o = round(ops, inside, group);
                staleWrites += o.written != 0 ? 1 : 0;
                ChildJvm.emit("round", i + " disturbed=" + o.disturbed + " reused=" + o.reused + " written=" + o.written
                        + " failure=" + o.failure);
                if (o.disturbed) {
                    disturbed++;
                    continue;
                }
                if (!o.reused) {
                    notReused++;    // A was not given back in time (its worker held a slice it had stopped)
                    continue;
                }
                clean++;
                reused++;
                staleIse += o.failure instanceof IllegalStateException ? 1 : 0;
            }
            ChildJvm.emit("clean", clean);
            ChildJvm.emit("disturbed", disturbed);
            ChildJvm.emit("not_reused", notReused);
            ChildJvm.emit("reused", reused);
            ChildJvm.emit("stale_writes", staleWrites);
            ChildJvm.emit("stale_ise", staleIse);
        }

        /**
         * One round's result.
         *
         * @param disturbed the worker was not frozen for the whole window (the freeze did not
         *                  complete, or the watchdog thawed it while a safepoint waited)
         * @param reused    B took A's range and its item sits where A's did
         * @param written   B's item, OR-ed over every slice (0: nothing written)
         * @param failure   what the worker ended with
         */
        record Outcome(boolean disturbed, boolean reused, long written, Throwable failure) {}

        /** One round; without a group, A is closed while the worker runs (no freeze). */
        static Outcome round(SliceOps ops, boolean inside, Freezer group) throws Exception {
            SliceMemory a = new SliceMemory(IndexField.CPU_ID, 64, JitConstants.CONTEXT.fences());
            long off = a.allocate(8, 8);
            AtomicLong tid = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong phase = new AtomicLong();   // 1: ready; 2: go
            Thread worker = new Thread(() -> {
                try {
                    tid.set(Freezer.currentTid());
                    if (inside) {
                        phase.set(1);
                        for (;;) {
                            a.checkOpen();          // what PerCpuItem.add checks before its call
                            ops.add(a, off, 1);
                        }
                    } else {
                        a.checkOpen();
                        phase.set(1);
                        while (phase.get() != 2) {
                            Thread.onSpinWait();    // stalls here, past the open check
                        }
                        ops.add(a, off, 1);
                        throw new AssertionError("a stale add returned normally");
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "stale-worker");
            worker.setDaemon(true);     // a failing child must end even if this worker never stops
            worker.start();
            while (phase.get() != 1) {
                Thread.onSpinWait();
            }
            if (inside) {
                Thread.sleep(1 + ThreadLocalRandom.current().nextInt(4));
            }
            boolean disturbed = false;
            if (group != null) {
                try {
                    group.freeze(tid.get());
                } catch (IOException notFrozen) {
                    disturbed = true;       // thawed by the watchdog, or not frozen in time
                }
            }
            phase.set(2);
            a.close();
            Thread.sleep(300);   // longer than the 250 ms quarantine
            SliceMemory b = new SliceMemory(IndexField.CPU_ID, 64, JitConstants.CONTEXT.fences());
            long offB = b.allocate(8, 8);
            boolean reused = b.base() == a.base() && offB == off;
            if (group != null) {
                disturbed |= !group.isFrozen();
                group.thaw();
            }
            worker.join(TimeScale.millis(30_000));
            if (worker.isAlive()) {
                throw new AssertionError("the stale worker did not end");
            }
            long written = 0;
            for (int i = 0; i < b.slices(); i++) {
                written |= b.whole().get(java.lang.foreign.ValueLayout.JAVA_LONG, b.at(i, offB));
            }
            b.close();
            return new Outcome(disturbed, reused, written, failure.get());
        }
    }
}
