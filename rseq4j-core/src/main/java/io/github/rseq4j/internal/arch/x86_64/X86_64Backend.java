package io.github.rseq4j.internal.arch.x86_64;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.RegistrationStubs;

/** The x86-64 back end: {@link X86_64MacroAssembler} and {@link X86_64RegistrationStubs}. */
public final class X86_64Backend implements Backend {
    /** The one instance (the back end has no state). */
    public static final X86_64Backend INSTANCE = new X86_64Backend();

    private X86_64Backend() {}

    @Override
    public Arch arch() {
        return Arch.X86_64;
    }

    @Override
    public MacroAssembler newAssembler(AreaLocation location) {
        return new X86_64MacroAssembler(location);
    }

    @Override
    public RegistrationStubs registrationStubs(int areaLength, long refusedArea) {
        return X86_64RegistrationStubs.generate(areaLength, refusedArea);
    }

    /** Nothing to do: x86-64 instruction fetch is coherent with stores to the same memory. */
    @Override
    public void flushInstructionCache(long address, long size) {
    }
}
