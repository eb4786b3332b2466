package io.github.rseq4j.stress;

import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the threads of one stress run share: the configuration, the memory and the
 * operations, the deadline, the end of a timed run, the failure list and progress counts.
 */
final class Run {
    final StressConfig config;
    final SliceMemory memory;
    /** The operations of this run (with delay loops when the run has them). */
    final SliceOps ops;
    /** Whether operations run as rseq critical sections in this process. */
    final boolean rseq;
    /** Nanos per iteration of an injected delay loop, or 0 when the run has no delay. */
    final double delayNanos;
    /** Operations completed per worker (lazy writes by the owner, read for progress). */
    final AtomicLongArray done;
    private final long deadline;
    /** Most operations per worker (no limit: {@link Long#MAX_VALUE}). */
    private final long maxReps;
    private final boolean timed;
    /**
     * When a timed run's workers stop starting operations ({@link #startClock}); written
     * before the workers are released, read by them after.
     */
    private long end;
    private final List<String> failures = new ArrayList<>();
    private volatile boolean failed;
    private volatile boolean workersDone;
    /** Set when a thread of the run ended early (failure or deadline), possibly holding work in flight. */
    private volatile boolean unwound;
    /** Counted down by the background loop once it is ready for the workers to start. */
    final CountDownLatch backgroundReady = new CountDownLatch(1);
    /**
     * True from the start of a step loop ({@link Scenario#whileWorkersRun}) until its first
     * step completed: each worker's last rep waits for it (see {@link #another}).
     */
    private volatile boolean firstStepPending;

    Run(StressConfig config, SliceMemory memory, SliceOps ops, boolean rseq, double delayNanos, long deadline) {
        this.config = config;
        this.memory = memory;
        this.ops = ops;
        this.rseq = rseq;
        this.delayNanos = delayNanos;
        this.deadline = deadline;
        this.done = new AtomicLongArray(config.threads());
        this.maxReps = config.repLimited() ? config.reps() : Long.MAX_VALUE;
        this.timed = config.timed();
        this.end = deadline;
    }

    /** Called by a step loop before it signals that it is ready: the workers' last reps will wait for its first step. */
    void firstStepStarts() {
        firstStepPending = true;
    }

    /** Called by a step loop after each step: the first one releases the workers' last reps. */
    void stepDone() {
        if (firstStepPending) {
            firstStepPending = false;
        }
    }

    /**
     * Holds a worker before its last rep until the background loop has completed a step, so
     * one completes while the workers run however short the run (200 reps can take less
     * than the background thread needs to get going). Bounded by the run's deadline.
     */
    private void awaitFirstStep() {
        for (int spins = 0; firstStepPending; spins++) {
            check();
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Starts the duration of a timed run; called just before the workers are released. */
    void startClock(long now) {
        if (timed) {
            end = now + config.duration().toNanos();
        }
    }

    /**
     * Whether a worker that has done {@code rep} operations starts another: below the rep
     * limit and, in a timed run, before the end of the duration. This is the workers' one
     * loop condition, so every scenario runs for reps, for a time, or both.
     *
     * @throws StressAbort when the run has failed or its deadline passed
     */
    boolean another(long rep) {
        if (rep >= maxReps) {
            return false;
        }
        if (rep == maxReps - 1 && firstStepPending) {
            awaitFirstStep();
        }
        long now = System.nanoTime();
        if (failed || now - deadline > 0) {
            throw StressAbort.INSTANCE;
        }
        return !timed || now - end < 0;
    }

    /** Nanoseconds of the duration gone, 0 to the duration (for progress). */
    long elapsedOfDuration(long now) {
        long d = config.duration().toNanos();
        return Math.clamp(d - (end - now), 0, d);
    }

    /** Throws {@link StressAbort} when the run has failed or its deadline passed. */
    void check() {
        if (failed || System.nanoTime() - deadline > 0) {
            throw StressAbort.INSTANCE;
        }
    }

    /** Whether the run has failed or its deadline passed: loops should end. */
    boolean stopping() {
        return failed || System.nanoTime() - deadline > 0;
    }

    boolean timedOut() {
        return System.nanoTime() - deadline > 0;
    }

    long deadline() {
        return deadline;
    }

    /** Records a failure; every loop of the run then stops. */
    void fail(String problem) {
        synchronized (failures) {
            if (failures.size() < 20) {
                failures.add(problem);
            }
        }
        failed = true;
    }

    /** Fails the run with {@code problem} and unwinds the calling loop. */
    RuntimeException abort(String problem) {
        fail(problem);
        return StressAbort.INSTANCE;
    }

    List<String> failures() {
        synchronized (failures) {
            return List.copyOf(failures);
        }
    }

    boolean failed() {
        return failed;
    }

    /** A thread of the run ended before finishing its work. */
    void markUnwound() {
        unwound = true;
    }

    /**
     * Whether some thread ended before finishing its work: then what it held (a popped
     * node, a half-done push) is in flight, and conservation cannot be checked.
     */
    boolean unwound() {
        return unwound || failed;
    }

    void markWorkersDone() {
        workersDone = true;
    }

    /** Whether every worker has ended (the background loop then finishes its work). */
    boolean workersDone() {
        return workersDone;
    }

    /** Operations the workers completed; exact once they have ended. */
    long operationsDone() {
        long s = 0;
        for (int i = 0; i < done.length(); i++) {
            s += done.get(i);
        }
        return s;
    }
}
