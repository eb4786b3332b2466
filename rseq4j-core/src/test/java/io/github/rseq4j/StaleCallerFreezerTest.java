package io.github.rseq4j;

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
        assumeTrue(!variant.equals("inside") || Boolean.getBoolean("rseq4j.test.freezeInside"),
                "skipped: the 'inside' variant (passes 20 of 20 when it finishes) has hung its child JVM on a host with"
                + " load 25-30, cause not found yet; run it with -Drseq4j.test.freezeInside=true");
        try (Freezer group = Freezer.create("stale-" + variant)) {
            List<String> flags = new ArrayList<>(List.of("-XX:+UnlockDiagnosticVMOptions",
                    "-XX:GuaranteedSafepointInterval=0", "-Xmn160m"));
            flags.addAll(ChildJvm.parentModeFlags());
            ChildJvm.Result r = ChildJvm.run(Child.class, flags, Map.of(), Duration.ofMinutes(5),
                    variant, Integer.toString(ROUNDS), group.dir().toString()).requireSuccess();
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
            int reused = 0, staleWrites = 0, staleIse = 0;
            for (int i = 0; i < rounds; i++) {
                Outcome o = round(ops, inside, group);
                reused += o.reused ? 1 : 0;
                staleWrites += o.written != 0 ? 1 : 0;
                staleIse += o.failure instanceof IllegalStateException ? 1 : 0;
                ChildJvm.emit("round", i + " reused=" + o.reused + " written=" + o.written + " failure=" + o.failure);
            }
            ChildJvm.emit("reused", reused);
            ChildJvm.emit("stale_writes", staleWrites);
            ChildJvm.emit("stale_ise", staleIse);
        }

        record Outcome(boolean reused, long written, Throwable failure) {}

        /** One round; without a group, A is closed while the worker runs (no freeze). */
        static Outcome round(SliceOps ops, boolean inside, Freezer group) throws Exception {
            SliceMemory a = new SliceMemory(IndexField.CPU_ID, 64);
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
            worker.setDaemon(true);   // a failed round ends the child at once, not at the parent's time limit
            worker.start();
            while (phase.get() != 1) {
                Thread.onSpinWait();
            }
            if (inside) {
                Thread.sleep(1 + ThreadLocalRandom.current().nextInt(4));
            }
            if (group != null) {
                group.freeze(tid.get());
            }
            phase.set(2);
            a.close();
            Thread.sleep(300);   // longer than the 250 ms quarantine
            SliceMemory b = new SliceMemory(IndexField.CPU_ID, 64);
            long offB = b.allocate(8, 8);
            boolean reused = b.base() == a.base() && offB == off;
            if (group != null) {
                group.thaw();
            }
            worker.join(30_000);
            if (worker.isAlive()) {
                throw new AssertionError("the stale worker did not end");
            }
            long written = 0;
            for (int i = 0; i < b.slices(); i++) {
                written |= b.whole().get(java.lang.foreign.ValueLayout.JAVA_LONG, b.at(i, offB));
            }
            b.close();
            return new Outcome(reused, written, failure.get());
        }
    }
}
