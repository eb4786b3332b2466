package io.github.rseq4j.internal.structures;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.internal.memory.SliceLayout;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.List;

/**
 * The process-wide slabs behind {@code PerCpuCounter}: per-CPU memory ranges
 * ({@link SliceMemory} in {@link IndexMode#CPU_ID} mode) packed with 8-byte counter
 * words, and the {@link Cleaner} that frees a counter's word when the counter becomes
 * unreachable.
 *
 * <p>Implementation notes. A slab's slice is {@link SliceLayout#STRIDE} bytes, so one slab
 * holds {@link #COUNTERS_PER_SLAB} counters, each costing 8 bytes per CPU: counters are
 * dense (no padded cell per counter per CPU); the copies of neighbouring counters share
 * cache lines within a CPU and never across CPUs. Allocation takes a word from the slab
 * that last had room, then from any other slab (freed words are reused), and only then
 * maps a new slab. Slabs are never unmapped (see {@link SliceMemory}); a freed word is
 * zeroed in every slice before it can be handed out again.
 */
public final class CounterSlabs {
    private CounterSlabs() {}

    /** Counters one slab holds: the slice minus its header, in 8-byte words. */
    public static final int COUNTERS_PER_SLAB = (int) ((SliceLayout.STRIDE - SliceLayout.HEADER_BYTES) / 8);

    /** Frees counter words; its thread is a daemon. Shared by every counter. */
    public static final Cleaner CLEANER = Cleaner.create();

    private static final Object LOCK = new Object();
    private static volatile SliceMemory[] slabs = new SliceMemory[0];
    private static int current;

    /**
     * Allocates one zeroed 8-byte word: the slab index in the high 32 bits, the word's
     * offset in the low 32 bits.
     */
    public static long allocate() {
        synchronized (LOCK) {
            SliceMemory[] s = slabs;
            for (int k = 0; k < s.length; k++) {
                int i = (current + k) % s.length;
                long off = s[i].allocate(8, 8);
                if (off >= 0) {
                    current = i;
                    return ((long) i << 32) | off;
                }
            }
            SliceMemory fresh = new SliceMemory(IndexMode.CPU_ID);
            long off = fresh.allocate(8, 8);
            SliceMemory[] grown = Arrays.copyOf(s, s.length + 1);
            grown[s.length] = fresh;
            slabs = grown;
            current = s.length;
            return ((long) s.length << 32) | off;
        }
    }

    /** Slab {@code index} (from {@link #allocate()}). */
    public static SliceMemory slab(int index) {
        return slabs[index];
    }

    /** Number of slabs mapped so far. */
    public static int slabCount() {
        return slabs.length;
    }

    /** Live counter words over all slabs. */
    public static long liveCounters() {
        long n = 0;
        for (SliceMemory s : slabs) {
            n += s.items();
        }
        return n;
    }

    /** The slabs, for diagnostics. */
    public static List<SliceMemory> slabs() {
        return List.of(slabs);
    }

    /**
     * The cleaning action of one counter: frees its word (zeroing every copy). It holds
     * the slab and the offset, never the counter.
     */
    public record Release(SliceMemory slab, long offset) implements Runnable {
        @Override
        public void run() {
            slab.free(offset);
        }
    }
}
