package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.os.Fences;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Arrays;
import java.util.List;

/**
 * The process-wide slabs behind {@code PerCpuCounter}: per-CPU memory ranges
 * ({@link SliceMemory} in {@link IndexField#CPU_ID} mode) packed with 8-byte counter
 * words, and the reclamation of a counter's word once the counter is unreachable.
 *
 * <p><b>Implementation notes.</b> A slab's slice is {@link #SLAB_BYTES} bytes, so one slab
 * holds {@link #COUNTERS_PER_SLAB} counters, each costing 8 bytes per CPU: counters are
 * dense (no padded cell per counter per CPU); the copies of neighbouring counters share
 * cache lines within a CPU and never across CPUs.
 *
 * <p>The per-counter heap cost is kept small on purpose, because "many counters" is the
 * point: words are tracked by one bitmap per slab (no per-counter allocator entry), and
 * reclamation uses one {@link PhantomReference} per counter that carries the slab and word
 * numbers itself (no separate cleaning action, no cleaner thread). The references are
 * kept reachable in a per-slab array and enqueued by the garbage collector; the queue is
 * drained whenever a counter is allocated or the live count is asked for. Draining frees
 * the word: every CPU's copy is zeroed (nothing can still add to it: its counter is
 * unreachable) and its bit cleared, so a new counter reuses it and starts at zero. Slabs
 * are never unmapped (see {@link SliceMemory}).
 */
public final class CounterSlabs {
    private CounterSlabs() {}

    /** Bytes of one slab in each slice (a region of per-CPU memory; pages are touched only as counters are used). */
    public static final long SLAB_BYTES = 64 * 1024;

    /** Counters one slab holds: the slice minus its header, in 8-byte words. */
    public static final int COUNTERS_PER_SLAB = (int) ((SLAB_BYTES - SliceLayout.HEADER_BYTES) / 8);

    private static final Object LOCK = new Object();
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
    private static volatile Slab[] slabs = new Slab[0];
    private static int current;

    /** One slab: its memory, which words are taken, and the references that watch them. */
    private static final class Slab {
        final SliceMemory memory;
        final long[] used = new long[(COUNTERS_PER_SLAB + 63) / 64];
        final CounterRef[] refs = new CounterRef[COUNTERS_PER_SLAB];
        int live;
        int searchFrom;

        Slab(Fences fences) {
            this.memory = new SliceMemory(IndexField.CPU_ID, SLAB_BYTES - SliceLayout.HEADER_BYTES, fences);
        }

        /** A free word index, or -1 when the slab is full. */
        int take() {
            if (live == COUNTERS_PER_SLAB) {
                return -1;
            }
            for (int k = 0; k < used.length; k++) {
                int b = (searchFrom + k) % used.length;
                long free = ~used[b];
                if (b == used.length - 1 && COUNTERS_PER_SLAB % 64 != 0) {
                    free &= (1L << (COUNTERS_PER_SLAB % 64)) - 1;
                }
                if (free != 0) {
                    int bit = Long.numberOfTrailingZeros(free);
                    used[b] |= 1L << bit;
                    live++;
                    searchFrom = b;
                    return b * 64 + bit;
                }
            }
            return -1;
        }

        void release(int word) {
            long offset = offsetOf(word);
            MemorySegment w = memory.whole();
            for (int i = 0, n = memory.slices(); i < n; i++) {
                w.set(ValueLayout.JAVA_LONG, memory.at(i, offset), 0L);
            }
            used[word >>> 6] &= ~(1L << (word & 63));
            refs[word] = null;
            live--;
        }
    }

    /** Watches one counter; carries where its word is. */
    private static final class CounterRef extends PhantomReference<Object> {
        final int slab;
        final int word;

        CounterRef(Object counter, int slab, int word) {
            super(counter, QUEUE);
            this.slab = slab;
            this.word = word;
        }
    }

    /** Byte offset of word {@code word} in a slice. */
    static long offsetOf(int word) {
        return SliceLayout.HEADER_BYTES + 8L * word;
    }

    /**
     * Allocates a zeroed word for {@code counter} and watches the counter: the word is
     * freed once the counter is unreachable. Returns the slab index in the high 32 bits
     * and the word's byte offset in the low 32 bits.
     *
     * @param counter the counter that owns the word (watched, never kept reachable)
     * @param fences  the fences of the context the counters are built with: those of a
     *                slab this call maps (all counters of the process share the slabs)
     * @return the slab index (high 32 bits) and the word's offset (low 32 bits)
     */
    public static long allocate(Object counter, Fences fences) {
        synchronized (LOCK) {
            reclaimLocked();
            Slab[] s = slabs;
            for (int k = 0; k < s.length; k++) {
                int i = (current + k) % s.length;
                int word = s[i].take();
                if (word >= 0) {
                    current = i;
                    return watch(s[i], i, word, counter);
                }
            }
            Slab fresh = new Slab(fences);
            Slab[] grown = Arrays.copyOf(s, s.length + 1);
            grown[s.length] = fresh;
            slabs = grown;
            current = s.length;
            return watch(fresh, s.length, fresh.take(), counter);
        }
    }

    private static long watch(Slab slab, int index, int word, Object counter) {
        slab.refs[word] = new CounterRef(counter, index, word);
        VarHandle.releaseFence(); // the zeroed word before the counter is published
        return ((long) index << 32) | offsetOf(word);
    }

    private static void reclaimLocked() {
        Slab[] s = slabs;
        for (Reference<?> r; (r = QUEUE.poll()) != null; ) {
            CounterRef ref = (CounterRef) r;
            s[ref.slab].release(ref.word);
        }
    }

    /** Frees the words of counters the collector has found unreachable. */
    public static void reclaim() {
        synchronized (LOCK) {
            reclaimLocked();
        }
    }

    /** Slab {@code index} (from {@link #allocate}). */
    public static SliceMemory slab(int index) {
        return slabs[index].memory;
    }

    /** Number of slabs mapped so far. */
    public static int slabCount() {
        return slabs.length;
    }

    /** Live counter words over all slabs (after reclaiming what the collector found). */
    public static long liveCounters() {
        synchronized (LOCK) {
            reclaimLocked();
            long n = 0;
            for (Slab s : slabs) {
                n += s.live;
            }
            return n;
        }
    }

    /** The slabs' memory, for diagnostics. */
    public static List<SliceMemory> slabs() {
        return Arrays.stream(slabs).map(s -> s.memory).toList();
    }
}
