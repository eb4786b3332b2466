package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Ordering;
import io.github.rseq4j.internal.asm.Reg;

import io.github.rseq4j.internal.asm.Label;

/**
 * What an {@link OperationTemplate} body sees while it is being emitted: its registers,
 * the slice it runs on, the exits it may take and the single committing store.
 */
public interface CriticalSection {

    MacroAssembler asm();

    /** Argument {@code i} of the operation (0 is the memory base). */
    Reg arg(int i);

    /** Body temporary {@code i}. */
    Reg temp(int i);

    /** Address of the current slice: base + (index &lt;&lt; strideShift). */
    Reg slice();

    /** The index (cpu_id or mm_cid) the section runs on. */
    Reg index();

    /**
     * Exit for a decided failure: jumping to the returned label leaves the section and
     * returns {@code code}, one of the decided failures of {@code OpResult}
     * (COMPARE_FAILED, EMPTY, FULL).
     */
    Label fail(long code);

    /**
     * The committing store, last instruction of the critical section. After it the body
     * may only choose the result.
     */
    void commit(Reg base, Reg index, int disp, Reg src, Ordering ordering);

    /** Return {@code value} instead of the index on success. */
    void result(Reg value);
}
