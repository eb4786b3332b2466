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

    /**
     * The assembler the body emits into.
     *
     * @return the assembler of the function being generated
     */
    MacroAssembler asm();

    /**
     * Argument {@code i} of the operation (0 is the memory base).
     *
     * @param i the argument's position, 0 to {@link OperationTemplate#args()} - 1
     * @return the register holding that argument
     */
    Reg arg(int i);

    /**
     * Body temporary {@code i}.
     *
     * @param i the temporary's number, 0 to {@link OperationTemplate#temps()} - 1
     * @return a register the body may use freely
     */
    Reg temp(int i);

    /**
     * Address of the current slice: base + (index &lt;&lt; strideShift).
     *
     * @return the register holding the slice's address; the body must not change it
     */
    Reg slice();

    /**
     * The index (cpu_id or mm_cid) the section runs on.
     *
     * @return the register holding the slice index; the body must not change it
     */
    Reg index();

    /**
     * Exit for a decided failure: jumping to the returned label leaves the section and
     * returns {@code code}, one of the decided failures of {@code OpResult}
     * (COMPARE_FAILED, EMPTY, FULL).
     *
     * @param code the decided failure the function returns through this exit
     * @return the label to branch to; the same label for the same code
     */
    Label fail(long code);

    /**
     * The committing store, last instruction of the critical section. After it the body
     * may only choose the result.
     *
     * @param base     the register holding the base address of the store, usually {@link #slice()}
     * @param index    a register added to the address (an offset in the slice), or null
     * @param disp     a constant displacement added to the address
     * @param src      the register holding the 64-bit value stored
     * @param ordering the store's memory ordering: relaxed, or release to publish what the
     *                 section wrote before it
     */
    void commit(Reg base, Reg index, int disp, Reg src, Ordering ordering);

    /**
     * Return {@code value} instead of the index on success.
     *
     * @param value the register whose content the function returns after the commit
     */
    void result(Reg value);
}
