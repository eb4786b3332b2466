package io.github.rseq4j.internal.runtime;

import io.github.rseq4j.internal.abi.OpResult;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of operations that completed off the rseq fast path, by reason. Only slow paths
 * touch these counters; they are striped ({@link LongAdder}) because in portable mode every
 * operation is a slow path, and one shared atomic word would serialise all threads on it.
 */
public final class FallbackStats {
    private final LongAdder notRegistered = new LongAdder();
    private final LongAdder aborted = new LongAdder();
    private final LongAdder stopped = new LongAdder();
    private final LongAdder portable = new LongAdder();

    /** Counts that all start at zero; the runtime keeps one for the process. */
    public FallbackStats() {
    }

    /**
     * Records one fallback for the failure code an rseq operation returned.
     *
     * @param failure the undecided code: NOT_REGISTERED, ABORTED or STOPPED
     * @throws IllegalArgumentException for any other code
     */
    public void record(long failure) {
        if (failure == OpResult.NOT_REGISTERED) {
            notRegistered.increment();
        } else if (failure == OpResult.ABORTED) {
            aborted.increment();
        } else if (failure == OpResult.STOPPED) {
            stopped.increment();
        } else {
            throw new IllegalArgumentException("not a fallback reason: " + failure);
        }
    }

    /** Records one operation run in portable mode. */
    public void recordPortable() {
        portable.increment();
    }

    /**
     * Operations of threads without a usable registration.
     *
     * @return the count so far
     */
    public long notRegistered() {
        return notRegistered.sum();
    }

    /**
     * Operations whose sections kept aborting past the attempt budget.
     *
     * @return the count so far
     */
    public long aborted() {
        return aborted.sum();
    }

    /**
     * Operations that found their slice stopped.
     *
     * @return the count so far
     */
    public long stopped() {
        return stopped.sum();
    }

    /**
     * Operations run in portable mode.
     *
     * @return the count so far
     */
    public long portable() {
        return portable.sum();
    }
}
