package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.asm.MacroAssembler;

/**
 * One rseq operation, written once against {@link MacroAssembler} and instantiated by
 * {@link CriticalSectionGenerator} for every architecture, index mode and delay setting.
 *
 * <p>Argument 0 of every operation is the base address of a per-CPU memory range; the
 * generator turns it into {@link CriticalSection#slice()}, the calling CPU's (or
 * concurrency id's) slice, after checking the slice's owner word. The body then runs
 * inside the critical section and must end with exactly one
 * {@link CriticalSection#commit committing store}.
 */
public interface OperationTemplate {

    /**
     * Name used for the generated function (diagnostics only).
     *
     * @return the name given to the function's entry label
     */
    String name();

    /**
     * Number of arguments, including argument 0 (the memory base); at most 6.
     *
     * @return how many native arguments the operation takes
     */
    int args();

    /**
     * Number of temporaries the body needs.
     *
     * @return how many registers {@link CriticalSection#temp} may hand out to the body
     */
    int temps();

    /**
     * Emits the body.
     *
     * @param cs the section being generated: registers, exits and the committing store
     */
    void body(CriticalSection cs);
}
