package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.runtime.JitConstants;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.memory.StopProtocolKernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Cross-CPU fences: the process's fences (membarrier RSEQ here), the affinity method
 * (pre-5.10 kernels, or {@code -Drseq4j.fence=affinity}), and the do-nothing fences of
 * the portable mode.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FencesTest {

    private static final int ABSENT_CPU = 4095;

    @Test
    void runtimeFencesCoverEveryPossibleCpu() {
        RseqRuntime rt = JitConstants.RUNTIME;
        Fences f = rt.fences();
        if (!rt.rseqMode()) {
            assertEquals(Fences.Kind.NONE, f.kind(), "no critical sections, nothing to fence");
        } else if (rt.platform().membarrierRseq() && !"affinity".equals(System.getProperty("rseq4j.fence"))) {
            assertEquals(Fences.Kind.MEMBARRIER, f.kind());
        } else {
            assertEquals(Fences.Kind.AFFINITY, f.kind());
        }
        for (int cpu : rt.platform().possibleCpus()) {
            assertDoesNotThrow(() -> f.fence(cpu), "fence(" + cpu + ")");
        }
        assertDoesNotThrow(f::fenceAll);
        assertDoesNotThrow(() -> f.fence(ABSENT_CPU), "an absent CPU runs nothing: no-op");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.fence(-1));
        assertTrue(e.getMessage().contains("cpu must be >= 0"), e.getMessage());
    }

    @Test
    void membarrierAnswersForAnAbsentCpuAreTreatedAsNothingToFence() {
        RseqRuntime rt = JitConstants.RUNTIME;
        assumeTrue(rt.fences().kind() == Fences.Kind.MEMBARRIER, "membarrier fences only");
        long r = KernelRseq.membarrier(rt.platform().arch(), RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
                RseqAbi.MEMBARRIER_CMD_FLAG_CPU, ABSENT_CPU);
        // Linux 6.18 answers 0 (nothing ran there, nothing to do); the fence also accepts EINVAL/ENXIO.
        assertTrue(r == 0 || r == -RseqAbi.EINVAL || r == -RseqAbi.ENXIO, "membarrier for CPU " + ABSENT_CPU + " gave " + r);
        long q = KernelRseq.membarrier(rt.platform().arch(), RseqAbi.MEMBARRIER_CMD_QUERY, 0, 0);
        assertTrue((q & RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) != 0, "QUERY mask " + q);
        assertEquals(0, KernelRseq.membarrier(rt.platform().arch(), RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
                RseqAbi.MEMBARRIER_CMD_FLAG_CPU, rt.platform().possibleCpus().getFirst()), "a registered process may fence");
    }

    @Test
    void portableFencesDoNothing() {
        Fences f = new Fences(Platform.get(), false, false);
        assertEquals(Fences.Kind.NONE, f.kind());
        assertDoesNotThrow(() -> f.fence(0));
        assertDoesNotThrow(() -> f.fence(ABSENT_CPU));
        assertDoesNotThrow(f::fenceAll);
    }

    @Test
    void affinityFencesVisitAllowedCpusAndRestoreTheAffinity() throws Throwable {
        assumeTrue(Platform.get().linux(), "Linux only");
        Fences f = new Fences(Platform.get(), true, true);
        assertEquals(Fences.Kind.AFFINITY, f.kind());
        List<Integer> online = CpuSets.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        onPlatformThread(() -> {
            List<Integer> original = CpuSets.allowed();
            try {
                for (int round = 0; round < 3; round++) {
                    for (int cpu : original) {
                        f.fence(cpu);
                        assertEquals(original, CpuSets.allowed(), "affinity restored after fence(" + cpu + ")");
                    }
                }
                f.fence(ABSENT_CPU);
                assertEquals(original, CpuSets.allowed());
                if (original.containsAll(online)) {
                    f.fenceAll();
                    assertEquals(original, CpuSets.allowed(), "affinity restored after fenceAll()");
                }
                // A CPU this thread may not run on cannot be reached by affinity: a clear failure.
                if (original.size() >= 2) {
                    int home = original.getFirst(), away = original.getLast();
                    assertEquals(0, CpuSets.setAffinity(List.of(home)));
                    IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.fence(away));
                    assertTrue(e.getMessage().contains("cannot fence CPU " + away), e.getMessage());
                    assertEquals(List.of(home), CpuSets.allowed(), "the failed fence restored the affinity");
                    assertEquals(home, Libc.schedGetcpu());
                }
            } finally {
                CpuSets.setAffinity(original);
            }
            assertEquals(original, CpuSets.allowed());
        });
    }

    /** Child under -Drseq4j.fence=affinity: the stop protocol with affinity fences. */
    public static final class AffinityStopChild {
        public static void main(String[] args) throws Exception {
            ChildJvm.emit("fence", Rseq.status().fence());
            ChildJvm.emit("mode", Rseq.status().mode());
            StopProtocolKernelTest.Outcome o = StopProtocolKernelTest.hammer(IndexMode.CPU_ID, 4, false, 1500);
            ChildJvm.emit("outcome", o);
            ChildJvm.emit("violations", o.violations().size());
            ChildJvm.emit("sum", o.sum());
            ChildJvm.emit("expected", o.expected());
            ChildJvm.emit("rounds", o.rounds());
            ChildJvm.emit("minAddsPerThread", o.minAddsPerThread());
        }
    }

    @Test
    void theStopProtocolHoldsWithAffinityFences() {
        assumeTrue(Platform.get().linux(), "Linux only");
        ChildJvm.Result r = ChildJvm.run(AffinityStopChild.class, List.of("-Drseq4j.fence=affinity"), Map.of(),
                Duration.ofSeconds(90)).requireSuccess();
        System.out.println("affinity-fence child: " + r.value("outcome"));
        assumeTrue(r.value("mode").equals("RSEQ"), "the child has no rseq: nothing to fence\n" + r.describe());
        assertEquals("AFFINITY", r.value("fence"), r.describe());
        assertEquals("0", r.value("violations"), r.describe());
        assertEquals(r.value("expected"), r.value("sum"), "exact total\n" + r.describe());
        assertTrue(Long.parseLong(r.value("rounds")) > 2, "the stopper made progress\n" + r.describe());
        assertTrue(Long.parseLong(r.value("minAddsPerThread")) > 0, r.describe());
    }

    private static void onPlatformThread(org.junit.jupiter.api.function.Executable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                body.execute();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
