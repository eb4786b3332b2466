package io.github.rseq4j.stress;

import io.github.rseq4j.internal.abi.IndexField;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.MemorySegment;

/**
 * One worker of a run: the operations it uses (the run's critical sections, or the
 * fallback path with reason NOT_REGISTERED when it acts as unregistered), its pauses and
 * back-off.
 */
final class Worker {
    private static final int SPINS_BEFORE_YIELD = 16;

    final Run run;
    final int index;
    /** Whether this worker acts as unregistered: every operation takes the fallback path. */
    final boolean unregistered;
    private final SliceMemory m;
    /** The run's operations, or (unregistered workers) every operation on the fallback path. */
    private final SliceOps ops;

    Worker(Run run, int index) {
        this.run = run;
        this.index = index;
        this.unregistered = run.config.unregistered(index);
        this.m = run.memory;
        this.ops = unregistered ? SliceOps.fallbackOnly(run.ops.context(), RseqResult.NOT_REGISTERED) : run.ops;
    }

    // ---------------------------------------------------------------- operations

    long add(long off, long delta) {
        return ops.add(m, off, delta);
    }

    long compareAndStore(long off, long expect, long newValue) {
        return ops.compareAndStore(m, off, expect, newValue, false);
    }

    long compare2AndStore(long off1, long e1, long off2, long e2, long newValue) {
        return ops.compare2AndStore(m, off1, e1, off2, e2, newValue);
    }

    long push(long headOff, long node, long nextOff) {
        return ops.push(m, headOff, node, nextOff);
    }

    long pop(long headOff, long nextOff) {
        return ops.pop(m, headOff, nextOff);
    }

    long ringWrite(long ringOff, MemorySegment src, long len) {
        return ops.ringWrite(m, ringOff, src, len);
    }

    /**
     * The slice this worker's next operation will most likely use: its CPU (or mm_cid)
     * from the rseq area; for unregistered workers and in portable mode, the slice the
     * fallback path tries first. Only a guess: operations that depend on it compare.
     */
    int hint() {
        if (!unregistered && run.rseq) {
            try {
                int v = m.mode() == IndexField.CPU_ID ? Rseq.currentCpu() : Rseq.currentConcurrencyId();
                if (v >= 0 && v < m.slices()) {
                    return v;
                }
            } catch (UnsupportedOperationException e) {
                // no registration on this thread: the fallback's guess is as good as any
            }
        }
        return m.hint();
    }

    // ---------------------------------------------------------------- pacing

    /** Pauses when {@code rep} is every M-th operation ({@code --every M}). */
    void pauseIfDue(long rep) {
        StressConfig c = run.config;
        if (c.every() == 0 || (rep + 1) % c.every() != 0) {
            return;
        }
        if (c.pause() == StressConfig.Pause.YIELD) {
            Thread.yield();
        } else {
            try {
                Thread.sleep(c.sleepMs());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw run.abort("worker " + index + " interrupted");
            }
        }
    }

    /** Waits a little before retry number {@code attempt}; unwinds when the run is over. */
    void backoff(int attempt) {
        run.check();
        if (attempt < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
