package io.github.rseq4j;

import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An item of {@link PerCpuMemory}: the same {@link #bytes()} bytes in every slice, used
 * as 64-bit words at 8-aligned byte offsets {@code 0 <= offset < bytes}.
 *
 * <p>Two kinds of operations: {@code try*} runs the rseq critical section once and
 * returns its raw {@link RseqResult} code (on failure nothing was stored); the others
 * always complete, taking the stop-and-fence path when the critical section cannot
 * commit, and only ever report success or {@link RseqResult#COMPARE_FAILED}.
 *
 * <p>Memory ordering: a committed operation's store is a plain store made atomic with
 * respect to every other operation on the same slice by rseq (no atomic instruction),
 * relaxed with respect to other memory unless the method says "release". Reads of other
 * slices ({@link #get}, {@link #sum}) use acquire loads.
 */
public final class PerCpuItem {
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private final PerCpuMemory memory;
    private final SliceMemory m;
    /** The operations of the context the memory was built with (for the process's, {@link SliceOps#DEFAULT}). */
    private final SliceOps ops;
    private final long offset;
    private final long bytes;
    private volatile boolean freed;
    private static final VarHandle FREED;

    static {
        try {
            FREED = java.lang.invoke.MethodHandles.lookup().findVarHandle(PerCpuItem.class, "freed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    PerCpuItem(PerCpuMemory memory, long offset) {
        this.memory = memory;
        this.m = memory.slices;
        this.ops = memory.ops;
        this.offset = offset;
        this.bytes = m.itemSize(offset);
    }

    /**
     * The memory this item lives in (the one whose {@link PerCpuMemory#newItem} made it).
     *
     * @return the {@link PerCpuMemory} whose slices hold this item's copies
     */
    public PerCpuMemory memory() {
        return memory;
    }

    /**
     * Size of each copy in bytes.
     *
     * @return the item's size in one slice, in bytes (a multiple of 8)
     */
    public long bytes() {
        return bytes;
    }

    private long word(long off) {
        m.checkOpen();
        if (freed) {
            throw new IllegalStateException("this per-CPU item was freed");
        }
        if (off < 0 || off > bytes - 8 || (off & 7) != 0) {
            throw new IndexOutOfBoundsException("word offset " + off + " is not an 8-aligned offset in [0, "
                    + (bytes - 8) + "]");
        }
        return offset + off;
    }

    /**
     * Adds {@code delta} to the word at {@code off} in the calling CPU's copy; always
     * completes. Returns the slice index it went to.
     *
     * @param off   the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param delta the amount to add (negative to subtract); the word wraps around on overflow
     * @return the index of the slice the add was stored in ({@code long}, as the other
     *         operations return)
     */
    public long add(long off, long delta) {
        return ops.add(m, word(off), delta);
    }

    /**
     * One attempt of the add critical section: the slice index, or a failure code.
     *
     * @param off   the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param delta the amount to add (negative to subtract)
     * @return the slice index when the add committed; else {@link RseqResult#ABORTED},
     *         {@link RseqResult#STOPPED} or {@link RseqResult#NOT_REGISTERED}, and nothing
     *         was stored
     */
    public long tryAdd(long off, long delta) {
        return ops.attempt(PerCpuOperation.ADD, m, word(off), delta, 0, 0, 0, null);
    }

    /**
     * In the calling CPU's copy: if the word at {@code off} equals {@code expect}, store
     * {@code newValue}. Returns the slice index, or {@link RseqResult#COMPARE_FAILED}.
     *
     * @param off      the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param expect   the value the word must hold for the store to happen
     * @param newValue the value stored in the word when the compare succeeds
     * @return the index of the slice the operation decided on when it stored, or
     *         {@link RseqResult#COMPARE_FAILED} when that slice's word was not {@code expect}
     */
    public long compareAndStore(long off, long expect, long newValue) {
        return ops.compareAndStore(m, word(off), expect, newValue, false);
    }

    /**
     * As {@link #compareAndStore}, with a release store (earlier writes are visible first).
     *
     * @param off      the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param expect   the value the word must hold for the store to happen
     * @param newValue the value stored, with release ordering, when the compare succeeds
     * @return the index of the slice the operation decided on when it stored, or
     *         {@link RseqResult#COMPARE_FAILED} when that slice's word was not {@code expect}
     */
    public long compareAndStoreRelease(long off, long expect, long newValue) {
        return ops.compareAndStore(m, word(off), expect, newValue, true);
    }

    /**
     * One attempt of compare-and-store: index, COMPARE_FAILED, or a failure code.
     *
     * @param off      the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param expect   the value the word must hold for the store to happen
     * @param newValue the value stored in the word when the compare succeeds
     * @return the slice index when it stored; {@link RseqResult#COMPARE_FAILED} when the
     *         word was not {@code expect}; else {@link RseqResult#ABORTED},
     *         {@link RseqResult#STOPPED} or {@link RseqResult#NOT_REGISTERED}, and nothing
     *         was stored
     */
    public long tryCompareAndStore(long off, long expect, long newValue) {
        return ops.attempt(PerCpuOperation.COMPARE_AND_STORE, m, word(off), expect, newValue, 0, 0, null);
    }

    /**
     * In the calling CPU's copy: if the word at {@code off1} equals {@code expect1} and the
     * word at {@code off2} equals {@code expect2}, store {@code newValue} at {@code off1}.
     * Always completes, as {@link #compareAndStore} does.
     *
     * @param off1     the byte offset of the word compared with {@code expect1} and stored
     *                 to: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param expect1  the value the word at {@code off1} must hold
     * @param off2     the byte offset of the second word compared, with {@code expect2}
     *                 (same rules as {@code off1}); it is only read
     * @param expect2  the value the word at {@code off2} must hold
     * @param newValue the value stored at {@code off1} when both compares succeed
     * @return the index of the slice the operation decided on when it stored, or
     *         {@link RseqResult#COMPARE_FAILED} when either word differed
     */
    public long compare2AndStore(long off1, long expect1, long off2, long expect2, long newValue) {
        return ops.compare2AndStore(m, word(off1), expect1, word(off2), expect2, newValue);
    }

    /**
     * One attempt of {@link #compare2AndStore}: index, COMPARE_FAILED, or a failure code.
     *
     * @param off1     the byte offset of the word compared with {@code expect1} and stored
     *                 to: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param expect1  the value the word at {@code off1} must hold
     * @param off2     the byte offset of the second word compared, with {@code expect2}
     *                 (same rules as {@code off1}); it is only read
     * @param expect2  the value the word at {@code off2} must hold
     * @param newValue the value stored at {@code off1} when both compares succeed
     * @return the slice index when it stored; {@link RseqResult#COMPARE_FAILED} when either
     *         word differed; else {@link RseqResult#ABORTED}, {@link RseqResult#STOPPED} or
     *         {@link RseqResult#NOT_REGISTERED}, and nothing was stored
     */
    public long tryCompare2AndStore(long off1, long expect1, long off2, long expect2, long newValue) {
        return ops.attempt(PerCpuOperation.COMPARE2_AND_STORE, m, word(off1), expect1, word(off2),
                expect2, newValue, null);
    }

    /**
     * The word at {@code off} in slice {@code index} (acquire load).
     *
     * @param index the slice to read: a CPU number or concurrency id, from 0 to
     *              {@link PerCpuMemory#slices()} - 1
     * @param off   the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @return the word's value in that slice
     */
    public long get(int index, long off) {
        long w = word(off);
        m.checkIndex(index);
        // acquire (ldar on aarch64): pairs with the release commits (stlr) and start()'s release store
        return (long) LONG.getAcquire(m.whole(), m.at(index, w));
    }

    /**
     * Sets the word at {@code off} in the slice {@code slice} holds stopped.
     *
     * @param slice the caller's hold on the slice to write, from this item's memory
     * @param off   the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @param value the value to store (a plain store; closing {@code slice} publishes it)
     * @throws IllegalStateException    when {@code slice} was closed
     * @throws IllegalArgumentException when it holds a slice of another memory
     */
    public void setStopped(StoppedSlice slice, long off, long value) {
        long w = word(off);
        int index = slice.requireHeld(m);
        m.whole().set(ValueLayout.JAVA_LONG, m.at(index, w), value);
    }

    /**
     * The word at {@code off} in the slice {@code slice} holds stopped (a plain load).
     *
     * @param slice the caller's hold on the slice to read, from this item's memory
     * @param off   the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @return the word's value in that slice
     * @throws IllegalStateException    when {@code slice} was closed
     * @throws IllegalArgumentException when it holds a slice of another memory
     */
    public long getStopped(StoppedSlice slice, long off) {
        long w = word(off);
        int index = slice.requireHeld(m);
        return m.whole().get(ValueLayout.JAVA_LONG, m.at(index, w));
    }

    /**
     * The sum of the word at {@code off} over all slices (not a snapshot: see the counter).
     *
     * @param off the byte offset of the word in the item: a multiple of 8 from 0 to {@link #bytes()} - 8
     * @return the sum of the word's values in every slice, each read with an acquire load
     */
    public long sum(long off) {
        long w = word(off);
        long s = 0;
        for (int i = 0; i < m.slices(); i++) {
            // acquire (ldar on aarch64): pairs with the release commits (stlr) and start()'s release store
            s += (long) LONG.getAcquire(m.whole(), m.at(i, w));
        }
        return s;
    }

    /**
     * Frees the item in every slice; later use of this handle throws. The caller
     * guarantees nobody uses it any more (a racing operation can only touch data items:
     * freed offsets are never reused for words generated code trusts). After the memory
     * was closed this only marks the handle freed: the item went with the memory.
     *
     * @throws IllegalStateException when it was already freed
     */
    public void free() {
        if (!FREED.compareAndSet(this, false, true)) {
            throw new IllegalStateException("this per-CPU item was already freed");
        }
        m.free(offset);
    }

    /**
     * The item's place, without reading any copy.
     *
     * @return {@code PerCpuItem[bytes=.., offset=.., N slices]}, with {@code freed} or
     *         {@code closed} when it can no longer be used
     */
    @Override
    public String toString() {
        return "PerCpuItem[bytes=" + bytes + ", offset=" + offset + ", " + m.slices() + " slices"
                + (freed ? ", freed" : m.isClosed() ? ", closed" : "") + "]";
    }
}
