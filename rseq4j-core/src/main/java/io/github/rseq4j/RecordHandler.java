package io.github.rseq4j;

/**
 * Receives the records a drain reads from per-CPU rings ({@link PerCpuRingBuffer#drain},
 * {@link PerCpuRing#drain}).
 *
 * @param <X> what {@link #onRecord} may throw; the drain rethrows it (checked exceptions
 *            such as {@code IOException} included), and the records not yet delivered
 *            stay in the rings for the next drain
 */
@FunctionalInterface
public interface RecordHandler<X extends Exception> {
    /**
     * One record from the ring of slice {@code cpu}: {@code bytes[0, length)}, valid only
     * during the call (the array is reused).
     */
    void onRecord(int cpu, byte[] bytes, int length) throws X;
}
