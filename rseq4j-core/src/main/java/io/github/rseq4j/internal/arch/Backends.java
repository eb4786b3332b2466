package io.github.rseq4j.internal.arch;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.arch.aarch64.Aarch64Backend;
import io.github.rseq4j.internal.arch.x86_64.X86_64Backend;
import io.github.rseq4j.internal.asm.Backend;

import java.util.Optional;

/**
 * The one switch from an architecture to its code generator. Adding an architecture is a
 * new package under {@code internal.arch} and one line here.
 */
public final class Backends {
    private Backends() {}

    /** The back end for {@code arch}, or empty when rseq4j has none for it. */
    public static Optional<Backend> forArch(Arch arch) {
        return Optional.ofNullable(switch (arch) {
            case X86_64 -> X86_64Backend.INSTANCE;
            case AARCH64 -> Aarch64Backend.INSTANCE;
            case OTHER -> null;
        });
    }

    /** The back end for {@code arch}; throws when rseq4j has none for it. */
    public static Backend require(Arch arch) {
        return forArch(arch).orElseThrow(() -> new UnsupportedOperationException(
                "rseq4j has no code generator for " + arch.displayName() + " yet"));
    }
}
