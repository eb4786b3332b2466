package io.github.rseq4j.stress;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.runtime.JitConstants;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.time.Duration;

/**
 * How long one iteration of an injected delay loop ({@code pause; dec; jnz} on x86-64)
 * takes on this machine, so that tests and the membarrier manager can ask for a delay in
 * time rather than in iterations. Measured once per process, with the delay after the
 * commit (point 3) so that preemption cannot abort and repeat it.
 */
public final class DelayCalibration {
    private DelayCalibration() {}

    /** Iterations per timed run: short, so that some of the runs finish within one time slice on a loaded machine. */
    private static final long LOOPS = 50_000;
    /** Timed runs; the fastest counts (a preempted run only ever reads slower). */
    private static final int RUNS = 25;
    private static volatile double nanosPerLoop;

    /**
     * Nanoseconds per delay-loop iteration (the fastest of several runs).
     *
     * @throws IllegalStateException in portable mode (there is no generated code)
     */
    public static double nanosPerLoop() {
        double v = nanosPerLoop;
        if (v > 0) {
            return v;
        }
        synchronized (DelayCalibration.class) {
            if (nanosPerLoop == 0) {
                nanosPerLoop = measure();
            }
            return nanosPerLoop;
        }
    }

    /** Delay-loop iterations that take about {@code d} here (at least 1). */
    public static long loopsFor(Duration d) {
        return Math.max(1, (long) (d.toNanos() / nanosPerLoop()));
    }

    private static double measure() {
        RseqRuntime rt = JitConstants.RUNTIME;
        if (!rt.rseqMode()) {
            throw new IllegalStateException("delay loops exist only in rseq mode: " + rt.modeReason());
        }
        SliceMemory m = new SliceMemory(IndexField.CPU_ID, rt.fences());
        long off = m.allocate(8, 8);
        SliceOps none = SliceOps.of(rt.context().withOperations(StressRunner.delayedOps(IndexField.CPU_ID, 3, 1)));
        SliceOps some = SliceOps.of(rt.context().withOperations(StressRunner.delayedOps(IndexField.CPU_ID, 3, LOOPS)));
        long base = Long.MAX_VALUE;
        for (int i = 0; i < 2000; i++) {
            long t = System.nanoTime();
            none.add(m, off, 1);
            base = Math.min(base, System.nanoTime() - t);
        }
        long delayed = Long.MAX_VALUE;
        for (int i = 0; i < RUNS; i++) {
            long t = System.nanoTime();
            some.add(m, off, 1);
            delayed = Math.min(delayed, System.nanoTime() - t);
        }
        m.close();
        return Math.max(0.01, (delayed - base) / (double) LOOPS);
    }
}
