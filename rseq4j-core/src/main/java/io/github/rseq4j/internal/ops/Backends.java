package io.github.rseq4j.internal.ops;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.registration.AreaLocation;

/** Picks the {@link MacroAssembler} back end for an architecture. */
public final class Backends {
    private Backends() {}

    /** A fresh back end for {@code arch}; throws when rseq4j has none for it. */
    public static MacroAssembler create(Arch arch, AreaLocation location) {
        return switch (arch) {
            case X86_64 -> new X86_64MacroAssembler(location);
            default -> throw new UnsupportedOperationException(
                    "rseq4j has no code generator for " + arch.displayName() + " yet");
        };
    }
}
