package io.github.rseq4j.stress;

import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A per-CPU spin lock (compare-and-store 0 to 1 on the caller's slice, which returns the
 * index it locked) guards a NON-atomic increment (plain load, add, plain store) of a
 * counter in the same slice, released with a release store of 0. Lost updates would show
 * as a sum below the operations done.
 */
final class SpinLockScenario extends Scenario {
    private long lock;
    private long counter;
    private long[] contended;

    SpinLockScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        lock = allocate(8, 8);
        counter = allocate(8, 8);
        contended = new long[run.config.threads()];
    }

    @Override
    long expected() {
        return operations();
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        int index = lock(w);
        long at = m.at(index, counter);
        long v = whole.get(ValueLayout.JAVA_LONG, at);
        whole.set(ValueLayout.JAVA_LONG, at, v + 1);
        long lockAt = m.at(index, lock);
        long held = (long) LONG.getVolatile(whole, lockAt);
        if (held != 1) {
            throw run.abort("worker " + w.index + ": the lock of slice " + index + " it holds reads " + held);
        }
        LONG.setRelease(whole, lockAt, 0L);
    }

    private int lock(Worker w) {
        for (int attempt = 0; ; attempt++) {
            long r = w.compareAndStore(lock, 0, 1);
            if (r >= 0) {
                if (r >= m.slices()) {
                    throw run.abort("worker " + w.index + ": lock returned slice " + r);
                }
                VarHandle.acquireFence();
                return (int) r;
            }
            if (r != RseqResult.COMPARE_FAILED) {
                throw run.abort("worker " + w.index + ": lock returned " + RseqResult.describe(r));
            }
            contended[w.index]++;
            w.backoff(attempt);
        }
    }

    @Override
    Verdict verify() {
        long s = 0;
        int held = 0;
        for (int i = 0; i < m.slices(); i++) {
            s += get(i, counter);
            held += get(i, lock) != 0 ? 1 : 0;
        }
        return Verdict.builder()
                .detail("contended", sum(contended))
                .check(s == expected(), "counter sum " + s + " != " + expected() + " (lost updates under the lock)")
                .check(held == 0, held + " locks still held after the run")
                .build(s);
    }
}
