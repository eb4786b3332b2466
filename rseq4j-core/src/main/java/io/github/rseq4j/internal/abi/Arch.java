package io.github.rseq4j.internal.abi;

import java.util.Locale;

/**
 * The processor architectures rseq4j knows about, with the per-architecture ABI facts
 * it needs: system call numbers and the rseq abort signature.
 */
public enum Arch {
    /** x86-64: rseq4j generates code for it. */
    X86_64("x86_64", 334, 324, 0x53053053, true),
    /** aarch64: ABI known, code generator not written yet (operations fall back). */
    AARCH64("aarch64", 293, 283, 0xd428bc00, false),
    /** Anything else: no rseq support in rseq4j. */
    OTHER("other", -1, -1, 0, false);

    private final String displayName;
    private final int rseqSyscall;
    private final int membarrierSyscall;
    private final int signature;
    private final boolean codeGenerator;

    Arch(String displayName, int rseqSyscall, int membarrierSyscall, int signature, boolean codeGenerator) {
        this.displayName = displayName;
        this.rseqSyscall = rseqSyscall;
        this.membarrierSyscall = membarrierSyscall;
        this.signature = signature;
        this.codeGenerator = codeGenerator;
    }

    /** The architecture this JVM runs on, from {@code os.arch}. */
    public static Arch current() {
        String a = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> OTHER;
        };
    }

    /** Name as the kernel spells it (uname -m). */
    public String displayName() { return displayName; }

    /** Number of the rseq system call, or -1. */
    public int rseqSyscall() { return rseqSyscall; }

    /** Number of the membarrier system call, or -1. */
    public int membarrierSyscall() { return membarrierSyscall; }

    /** The 32-bit signature that must precede every abort handler. */
    public int signature() { return signature; }

    /** Whether rseq4j can generate critical sections for this architecture. */
    public boolean hasCodeGenerator() { return codeGenerator; }
}
