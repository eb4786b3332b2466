package io.github.rseq4j.internal.abi;

/**
 * Layout of one slot that holds an rseq area rseq4j registered itself: the kernel's
 * {@code struct rseq} at offset 0, then a state word that the pthread-key destructor
 * (generated code) sets to {@link #STATE_FREE} once the thread's registration is gone.
 * Shared by the Java allocator of slots and the generated registration stubs.
 */
public final class AreaSlotLayout {
    private AreaSlotLayout() {}

    /** Bytes per slot (also its alignment). */
    public static final int SLOT_BYTES = 256;
    /** Largest kernel area a slot holds. */
    public static final int MAX_AREA_BYTES = 192;
    /** Offset of the state word in a slot. */
    public static final int STATE_OFFSET = 192;
    /** State word: the slot may be claimed. */
    public static final long STATE_FREE = 0;
    /** State word: the slot holds an area the kernel may write. */
    public static final long STATE_IN_USE = 1;
}
