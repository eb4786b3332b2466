package io.github.rseq4j.internal.asm;

import io.github.rseq4j.internal.abi.Arch;

/**
 * Everything rseq4j generates that depends on the processor architecture: the
 * {@link MacroAssembler} that operation templates and the critical-section skeleton are
 * written against, and the registration stubs (plain functions, not critical sections).
 * One implementation per architecture, each in its own package under
 * {@code internal.arch}; {@code internal.arch.Backends} is the one switch that picks it.
 */
public interface Backend {

    /** The architecture this back end generates code for. */
    Arch arch();

    /** A fresh macro-assembler whose functions find the rseq area at {@code location}. */
    MacroAssembler newAssembler(AreaLocation location);

    /**
     * Generates and installs the functions behind rseq4j's own registration.
     *
     * @param areaLength  the length passed to rseq(2)
     * @param refusedArea the permanent marker area set through the key for refused threads
     */
    RegistrationStubs registrationStubs(int areaLength, long refusedArea);

    /**
     * Makes instructions just written to {@code [address, address + size)} visible to
     * instruction fetch on every CPU. {@link ExecutableMemory#install} calls it after
     * copying code into fresh pages and before making them executable. A no-op where
     * instruction fetch is coherent with data stores (x86-64); on aarch64 a data-cache
     * clean and instruction-cache invalidate by address. Only ever called for code of
     * the architecture the JVM runs on.
     */
    void flushInstructionCache(long address, long size);
}
