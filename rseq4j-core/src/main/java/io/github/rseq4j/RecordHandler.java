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
     *
     * @param cpu    the index of the slice (the CPU, or concurrency id) whose ring held the
     *               record
     * @param bytes  a buffer whose first {@code length} bytes are the record; copy what must
     *               outlive the call
     * @param length the record's size in bytes
     * @throws X to stop the drain; the drain rethrows it to its caller
     */
    void onRecord(int cpu, byte[] bytes, int length) throws X;
}
