package io.github.rseq4j.internal.arch.aarch64;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.RegistrationStubs;

/**
 * The aarch64 back end: {@link Aarch64MacroAssembler}, {@link Aarch64RegistrationStubs}
 * and instruction-cache maintenance ({@link Aarch64CacheFlush}).
 *
 * <p>Generating code works on any host (the emulator check generates aarch64 code on
 * x86-64); installing it, which flushes the instruction cache, only on an aarch64 JVM.
 */
public final class Aarch64Backend implements Backend {
    /** The one instance (the back end has no state). */
    public static final Aarch64Backend INSTANCE = new Aarch64Backend();

    private Aarch64Backend() {}

    @Override
    public Arch arch() {
        return Arch.AARCH64;
    }

    @Override
    public MacroAssembler newAssembler(AreaLocation location) {
        return new Aarch64MacroAssembler(location);
    }

    @Override
    public RegistrationStubs registrationStubs(int areaLength, long refusedArea) {
        return Aarch64RegistrationStubs.generate(areaLength, refusedArea);
    }

    /**
     * {@code dc cvau} and {@code ic ivau} over the range, then {@code dsb ish; isb}, through
     * a generated routine ({@link Aarch64CacheFlush}).
     *
     * @throws IllegalStateException on a JVM that is not aarch64 (aarch64 code generated
     *                               there is for inspection only and is never installed)
     */
    @Override
    public void flushInstructionCache(long address, long size) {
        if (Arch.current() != Arch.AARCH64) {
            throw new IllegalStateException("aarch64 code cannot be installed on " + Arch.current().displayName());
        }
        Aarch64CacheFlush.flush(address, size);
    }
}
