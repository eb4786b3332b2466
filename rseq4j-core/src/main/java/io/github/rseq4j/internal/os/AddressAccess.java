package io.github.rseq4j.internal.os;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Access to memory rseq4j owns by its absolute address (list nodes, which generated code
 * links by address), with or without native access.
 *
 * <p><b>Implementation notes.</b> With native access, an address becomes a segment through
 * {@link MemorySegment#reinterpret(long)}, a restricted method. When the JVM denies this
 * module native access ({@link Libc#NATIVE_ACCESS_DENIED}), rseq4j runs in portable mode
 * and takes its memory from {@link java.lang.foreign.Arena}s instead; each such block is
 * {@linkplain #register registered} here, and an address is resolved to a slice of the
 * block that contains it (binary search over a copy-on-write array sorted by address).
 * Portable mode registers its list nodes' blocks even with native access, and a
 * registered block is resolved through the registry first, so its slices carry the
 * block's arena: an access after the arena closed throws instead of reading freed memory.
 * A block is {@linkplain #unregister unregistered} before its arena closes, so the
 * registry holds only live blocks. An address in no registered block is reinterpreted with
 * native access (rseq mode's mapped nodes, never freed) and refused without it.
 */
public final class AddressAccess {
    private AddressAccess() {}

    private static final boolean REINTERPRET = !Libc.NATIVE_ACCESS_DENIED;
    /** Registered blocks, sorted by address; replaced, never changed. */
    private static volatile MemorySegment[] blocks = new MemorySegment[0];

    /**
     * Makes a block of Arena memory resolvable by address (needed only without native
     * access, or for memory that will be freed; harmless otherwise). A block stays
     * registered until {@link #unregister}.
     *
     * @param block a native segment rseq4j allocated
     * @throws IllegalArgumentException when {@code block} is a heap segment
     */
    public static synchronized void register(MemorySegment block) {
        if (!block.isNative()) {
            throw new IllegalArgumentException("only native memory has an address: " + block);
        }
        MemorySegment[] grown = Arrays.copyOf(blocks, blocks.length + 1);
        grown[grown.length - 1] = block;
        Arrays.sort(grown, (a, b) -> Long.compareUnsigned(a.address(), b.address()));
        blocks = grown;
    }

    /**
     * Forgets a block {@link #register} added (before its arena closes); nothing when it is
     * not registered.
     *
     * @param block a block passed to {@link #register}
     */
    public static synchronized void unregister(MemorySegment block) {
        MemorySegment[] all = blocks;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == block) {
                MemorySegment[] shrunk = new MemorySegment[all.length - 1];
                System.arraycopy(all, 0, shrunk, 0, i);
                System.arraycopy(all, i + 1, shrunk, i, all.length - i - 1);
                blocks = shrunk;
                return;
            }
        }
    }

    /**
     * Registered blocks now (for tests).
     *
     * @return how many blocks {@link #segment} resolves through the registry
     */
    public static int registeredBlocks() {
        return blocks.length;
    }

    /**
     * A segment over {@code [address, address + bytes)}.
     *
     * @param address the first byte, inside memory rseq4j owns
     * @param bytes   the length
     * @return a segment over those bytes
     * @throws IllegalArgumentException without native access, when the range is not inside
     *                                  one registered block
     */
    public static MemorySegment segment(long address, long bytes) {
        MemorySegment[] all = blocks;
        if (REINTERPRET && all.length == 0) {
            return MemorySegment.ofAddress(address).reinterpret(bytes);
        }
        int lo = 0, hi = all.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            MemorySegment b = all[mid];
            if (Long.compareUnsigned(address, b.address()) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(address - b.address(), b.byteSize()) >= 0) {
                lo = mid + 1;
            } else {
                return b.asSlice(address - b.address(), bytes);
            }
        }
        if (REINTERPRET) {
            return MemorySegment.ofAddress(address).reinterpret(bytes);
        }
        throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " is not in rseq4j's memory");
    }

    /**
     * The 64-bit word at {@code address}.
     *
     * @param address an 8-byte aligned address inside memory rseq4j owns
     * @return the word's value
     */
    public static long getLong(long address) {
        return segment(address, 8).get(ValueLayout.JAVA_LONG, 0);
    }

    /**
     * Stores the 64-bit word at {@code address}.
     *
     * @param address an 8-byte aligned address inside memory rseq4j owns
     * @param value   the value to store
     */
    public static void setLong(long address, long value) {
        segment(address, 8).set(ValueLayout.JAVA_LONG, 0, value);
    }
}
