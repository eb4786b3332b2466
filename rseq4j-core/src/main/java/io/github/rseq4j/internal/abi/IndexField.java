package io.github.rseq4j.internal.abi;

/** Which field of {@code struct rseq} selects the slice a critical section works on. */
public enum IndexField {
    /** {@code cpu_id}: the CPU the thread runs on. */
    CPU_ID(RseqAbi.CPU_ID),
    /** {@code mm_cid}: the thread's compact concurrency id in its process (Linux 6.3+). */
    MM_CID(RseqAbi.MM_CID);

    private final int offset;

    IndexField(int offset) {
        this.offset = offset;
    }

    /**
     * Offset of the field in {@code struct rseq}.
     *
     * @return the field's byte offset from the start of a thread's rseq area
     */
    public int offset() {
        return offset;
    }
}
