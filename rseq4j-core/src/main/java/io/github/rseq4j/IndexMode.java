package io.github.rseq4j;

import io.github.rseq4j.internal.abi.IndexField;

/**
 * Which number picks a thread's slice of per-CPU memory.
 */
public enum IndexMode {
    /**
     * The CPU the thread runs on ({@code rseq.cpu_id}). One slice per possible CPU; two
     * threads use the same slice only when they run on the same CPU, one after the other.
     */
    CPU_ID,

    /**
     * The kernel's memory-map concurrency id ({@code rseq.mm_cid}, Linux 6.3+): a compact
     * number in {@code [0, min(threads, allowed CPUs))}. The same exclusivity as
     * {@link #CPU_ID}, but a process that runs on few CPUs of a large machine touches only
     * the first few slices, so far less memory. Fences for this mode cover every CPU.
     */
    CONCURRENCY_ID;

    /** The rseq field behind this mode. */
    IndexField field() {
        return switch (this) {
            case CPU_ID -> IndexField.CPU_ID;
            case CONCURRENCY_ID -> IndexField.MM_CID;
        };
    }

    /** The mode whose field is {@code field}. */
    static IndexMode of(IndexField field) {
        return switch (field) {       // exhaustive: a new field fails the build here
            case CPU_ID -> CPU_ID;
            case MM_CID -> CONCURRENCY_ID;
        };
    }
}
