package io.github.rseq4j;

import io.github.rseq4j.internal.structures.SlotPool;

/**
 * One object or buffer taken from a {@link Pool} ({@link PerCpuPool}, {@link PerCpuBufferPool}) with
 * {@code lease()}, for try-with-resources; {@link #close()} gives it back.
 *
 * <pre>{@code
 * try (Lease<StringBuilder> lease = builders.lease()) {
 *     StringBuilder sb = lease.get();
 *     ...
 * }
 * }</pre>
 *
 * <p>Not for sharing between threads without synchronisation.
 *
 * @param <T> the type of the pooled object ({@link java.lang.foreign.MemorySegment} for buffers)
 */
public final class Lease<T> implements AutoCloseable {
    private final SlotPool slots;
    private final int slot;
    private T object;

    Lease(SlotPool slots, int slot, T object) {
        this.slots = slots;
        this.slot = slot;
        this.object = object;
    }

    /**
     * The object.
     *
     * @return the pooled object this lease holds (for a {@link PerCpuBufferPool}, the buffer)
     * @throws IllegalStateException after {@link #close()}
     */
    public T get() {
        T o = object;
        if (o == null) {
            throw new IllegalStateException("this lease is closed: the object is back in the pool");
        }
        return o;
    }

    /**
     * Gives the object back to the pool.
     *
     * @throws IllegalStateException when closed already, or the pool is closed
     */
    @Override
    public void close() {
        if (object == null) {
            throw new IllegalStateException("this lease is closed already");
        }
        slots.checkOpen();
        object = null;
        slots.release(slot);
    }

    @Override
    public String toString() {
        return object == null ? "Lease[closed]" : "Lease[" + object + "]";
    }
}
