package io.github.rseq4j;

import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;
import io.github.rseq4j.internal.structures.CounterSlabs;

import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;

/**
 * A 64-bit sum kept per CPU: a drop-in replacement for
 * {@link java.util.concurrent.atomic.LongAdder} whose updates are rseq critical sections
 * (no atomic instruction, no contention between CPUs), whose {@link #sumThenReset()} is
 * exact, and which costs 8 bytes per CPU instead of a padded cell per CPU.
 *
 * <pre>{@code
 * static final PerCpuCounter REQUESTS = new PerCpuCounter();
 *
 * void onRequest() {
 *     REQUESTS.increment();                    // one critical section on this CPU
 * }
 *
 * void report() {                              // e.g. once a second
 *     long perInterval = REQUESTS.sumThenReset(); // exact: nothing lost, nothing counted twice
 * }
 * }</pre>
 *
 * <p><b>Implementation notes.</b> All counters of the process share slabs of per-CPU
 * memory (64 KiB per CPU per slab, 8,184 counters each). A counter is a slab and an
 * offset: word {@code offset} of slice {@code i} is CPU {@code i}'s part of the sum.
 * <ul>
 * <li>{@link #add} is one generated critical section, "load word, add, store word", on the
 *     slice of the CPU the thread runs on; the operation set is a JIT constant, so the hot
 *     path is an inlined critical downcall with no allocation, no thread-local lookup and no
 *     atomic instruction. When the section cannot commit (the thread is not registered, it
 *     was aborted too often, or the slice is stopped) the add completes on the
 *     stop-and-fence path, on some slice; in portable mode it always does.</li>
 * <li>{@link #sum} reads every CPU's word with an acquire load and adds them up. Like
 *     {@code LongAdder.sum()}, it is not a snapshot: adds that run meanwhile may or may not
 *     be included.</li>
 * <li>{@link #sumThenReset} and {@link #reset} take the slices one at a time with the stop
 *     protocol ({@link PerCpuMemory#stop}: a CAS on the slice's stopped word, then a
 *     membarrier fence of its CPU), read and zero the word with plain accesses, and restart
 *     the slice with a release store. An add either committed to that slice before the
 *     fence (and is read and cleared) or commits afterwards to a slice it finds running
 *     (and is read by a later call): every add is counted exactly once. Concurrent adds
 *     are not blocked; while a slice is stopped they complete on the fallback path. A stop
 *     affects every counter of the slab for a few microseconds, so reserve
 *     {@code sumThenReset} for periodic collection rather than hot loops.</li>
 * <li>Memory: the word is freed once the counter is unreachable, through a phantom
 *     reference that carries the slab and word numbers (never the counter); freeing zeroes
 *     every CPU's copy, and the word is then reused by new counters. Every method ends with {@link Reference#reachabilityFence} so a counter
 *     cannot be cleaned while one of its operations runs. Slabs themselves are never
 *     unmapped.</li>
 * <li>The Java object holds only the slab and the offset (24 bytes with compressed
 *     references); its phantom reference adds 40 bytes and a 4-byte array slot. With the
 *     8 bytes per CPU of its word, a counter costs 68 + 8 x CPUs bytes, against a
 *     {@code LongAdder}'s 32 bytes plus a 128-byte-padded cell per contending CPU.</li>
 * </ul>
 *
 * <p><b>Memory ordering.</b> An add is atomic with respect to every other operation on
 * the same slice (rseq makes its plain load and store indivisible on that CPU) and
 * relaxed with respect to other memory: a sum that includes an add says nothing about
 * the adding thread's other writes, so do not use a counter to publish data (nor does
 * {@code LongAdder} promise it). {@code sum} reads each slice with an acquire load;
 * {@code sumThenReset} reads and clears each slice while it is stopped, which orders it
 * against every add on that slice.
 *
 * <p><b>Serialization.</b> Like {@code LongAdder}, a counter serializes as its current
 * sum (a serialization proxy); deserializing creates a new counter with that value.
 *
 * <p>Works in rseq and portable mode, from platform and virtual threads (a virtual
 * thread's add runs on the CPU of its carrier at that moment).
 */
public final class PerCpuCounter extends Number implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final transient SliceMemory slab;
    private final transient long offset;

    /** A new counter with sum zero. */
    public PerCpuCounter() {
        if (PORTABLE) {
            this.slab = null;   // portable mode counts in the LongAdder alone
            this.offset = 0;
        } else {
            long h = CounterSlabs.allocate(this, CONTEXT.fences());
            this.slab = CounterSlabs.slab((int) (h >>> 32));
            this.offset = (int) h;
        }
    }

    /**
     * Whether this process counts without rseq. Then the counter is a
     * {@link java.util.concurrent.atomic.LongAdder} (its cells spread contending threads and
     * re-spread them on collision, which a fixed per-thread part cannot), whose
     * {@code sumThenReset} takes the base and each cell with an atomic exchange: the same
     * exactness, no lock and no stop.
     */
    private static final boolean PORTABLE = !JitConstants.RSEQ;

    /**
     * The context every counter is built with: the process's, taken once from the
     * composition root. All counters share the process-wide slabs, so there is one context
     * for all of them, not one per counter (which would also cost every counter a field).
     */
    private static final RuntimeContext CONTEXT = JitConstants.CONTEXT;

    /**
     * The operations {@link #add} runs: {@code SliceOps.of(CONTEXT)}, which is
     * {@link SliceOps#DEFAULT} itself. A {@code static final}, so the JIT sees a constant and
     * {@code add} still inlines to one downcall.
     */
    private static final SliceOps OPS = SliceOps.of(CONTEXT);

    /** The portable-mode counter, or null in rseq mode. */
    private final transient java.util.concurrent.atomic.LongAdder portable =
            PORTABLE ? new java.util.concurrent.atomic.LongAdder() : null;

    /**
     * Adds {@code x} to the calling CPU's part of the sum.
     *
     * @param x the amount to add; negative to subtract
     */
    public void add(long x) {
        if (PORTABLE) {
            portable.add(x);
        } else {
            OPS.add(slab, offset, x);
        }
        Reference.reachabilityFence(this);
    }

    /** Equivalent to {@code add(1)}. */
    public void increment() {
        add(1L);
    }

    /** Equivalent to {@code add(-1)}. */
    public void decrement() {
        add(-1L);
    }

    /**
     * The current sum: every CPU's part, read with acquire loads. Not an atomic snapshot:
     * adds that run concurrently may or may not be included (see the class notes).
     *
     * @return the sum of every CPU's part, wrapping around on overflow as {@code long}
     *         arithmetic does
     */
    public long sum() {
        if (PORTABLE) {
            return portable.sum();
        }
        MemorySegment w = slab.whole();
        long s = 0;
        for (int i = 0, n = slab.slices(); i < n; i++) {
            // acquire (ldar on aarch64): pairs with the release commits (stlr) and start()'s release store
            s += (long) LONG.getAcquire(w, slab.at(i, offset));
        }
        Reference.reachabilityFence(this);
        return s;
    }

    /**
     * Sets the sum to zero, exactly: every add that completed before this call starts is
     * discarded, every add that starts after it returns is kept, and each concurrent add
     * is either discarded or kept, never half of it.
     */
    public void reset() {
        sumThenReset();
    }

    /**
     * Returns the sum and sets it to zero, exactly: across any number of calls, every add
     * is returned by exactly one call or remains in the sum. Stops each CPU's slice in turn
     * (see the class notes), so it is much slower than {@link #sum()}.
     *
     * @return the sum of the adds this call took out of the counter
     */
    public long sumThenReset() {
        if (PORTABLE) {
            return portable.sumThenReset();
        }
        MemorySegment w = slab.whole();
        long s = 0;
        try {
            for (int i = 0, n = slab.slices(); i < n; i++) {
                long at = slab.at(i, offset);
                slab.stop(i);
                try {
                    s += w.get(ValueLayout.JAVA_LONG, at);
                    w.set(ValueLayout.JAVA_LONG, at, 0L);
                } finally {
                    slab.start(i);
                }
            }
        } catch (RuntimeException | Error e) {
            // A slice could not be stopped (its fence failed): give back what was taken.
            if (s != 0) {
                add(s);
            }
            throw e;
        }
        Reference.reachabilityFence(this);
        return s;
    }

    /** Equivalent to {@link #sum()}. */
    @Override
    public long longValue() {
        return sum();
    }

    /** The {@link #sum()} as an int, after a narrowing primitive conversion. */
    @Override
    public int intValue() {
        return (int) sum();
    }

    /** The {@link #sum()} as a float, after a widening primitive conversion. */
    @Override
    public float floatValue() {
        return (float) sum();
    }

    /** The {@link #sum()} as a double, after a widening primitive conversion. */
    @Override
    public double doubleValue() {
        return (double) sum();
    }

    /** The string of {@link #sum()}. */
    @Override
    public String toString() {
        return Long.toString(sum());
    }

    // ------------------------------------------------------------------ serialization

    /** Serialized form: the sum at the time of writing. */
    private static final class SerializationProxy implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        /** The sum. */
        private final long value;

        SerializationProxy(long value) {
            this.value = value;
        }

        /** A new counter holding the serialized sum. */
        @Serial
        private Object readResolve() {
            PerCpuCounter c = new PerCpuCounter();
            c.add(value);
            return c;
        }
    }

    /**
     * Serializes the counter as a {@code SerializationProxy} holding its current sum.
     *
     * @return the proxy written to the stream in place of this counter
     */
    @Serial
    private Object writeReplace() {
        return new SerializationProxy(sum());
    }

    /**
     * Refuses to deserialize a counter directly: a genuine stream holds the proxy instead.
     *
     * @param in the stream a forged serialized counter is read from
     * @throws InvalidObjectException always
     */
    @Serial
    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("PerCpuCounter is deserialized through its serialization proxy");
    }
}
