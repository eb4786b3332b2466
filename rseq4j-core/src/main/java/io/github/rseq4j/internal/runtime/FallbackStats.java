package io.github.rseq4j.internal.runtime;

import io.github.rseq4j.internal.abi.OpResult;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts of operations that completed off the rseq fast path, by reason. Only slow paths
 * touch these counters.
 */
public final class FallbackStats {
    private final AtomicLong notRegistered = new AtomicLong();
    private final AtomicLong aborted = new AtomicLong();
    private final AtomicLong stopped = new AtomicLong();
    private final AtomicLong portable = new AtomicLong();

    /** Records one fallback for the failure code an rseq operation returned. */
    public void record(long failure) {
        if (failure == OpResult.NOT_REGISTERED) {
            notRegistered.incrementAndGet();
        } else if (failure == OpResult.ABORTED) {
            aborted.incrementAndGet();
        } else if (failure == OpResult.STOPPED) {
            stopped.incrementAndGet();
        } else {
            throw new IllegalArgumentException("not a fallback reason: " + failure);
        }
    }

    public void recordPortable() {
        portable.incrementAndGet();
    }

    public long notRegistered() { return notRegistered.get(); }
    public long aborted() { return aborted.get(); }
    public long stopped() { return stopped.get(); }
    public long portable() { return portable.get(); }
}
