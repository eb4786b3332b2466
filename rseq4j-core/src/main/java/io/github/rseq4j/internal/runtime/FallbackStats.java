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

    /** Records one fallback for the failure code an rseq operation returned. */
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

    /** Operations of threads without a usable registration. */
    public long notRegistered() {
        return notRegistered.sum();
    }

    /** Operations whose sections kept aborting past the attempt budget. */
    public long aborted() {
        return aborted.sum();
    }

    /** Operations that found their slice stopped. */
    public long stopped() {
        return stopped.sum();
    }

    /** Operations run in portable mode. */
    public long portable() {
        return portable.sum();
    }
}
