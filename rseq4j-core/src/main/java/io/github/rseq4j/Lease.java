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
    /** The slot's state when this lease took it: a release by hand, or a later holder, changes it. */
    private final int ticket;
    private T object;

    Lease(SlotPool slots, int slot, T object) {
        this.slots = slots;
        this.slot = slot;
        this.ticket = slots.ticket(slot);
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
     * Gives the object back to the pool. After the pool was closed, does nothing (so a
     * try-with-resources block that outlives its pool does not hide the exception in flight).
     *
     * @throws IllegalStateException when closed already, or when the object was given back
     *                               by hand ({@code release}) since this lease took it: it
     *                               may be another holder's now, and is left alone
     */
    @Override
    public void close() {
        if (object == null) {
            throw new IllegalStateException("this lease is closed already");
        }
        object = null;
        if (!slots.isClosed()) {
            slots.releaseTicket(slot, ticket);
        }
    }

    @Override
    public String toString() {
        return object == null ? "Lease[closed]" : "Lease[" + object + "]";
    }
}
