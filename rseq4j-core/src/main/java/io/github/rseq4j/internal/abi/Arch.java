package io.github.rseq4j.internal.abi;

import java.util.Locale;

/**
 * The processor architectures rseq4j knows about, with the per-architecture ABI facts
 * it needs: system call numbers and the rseq abort signature. Which architectures
 * rseq4j generates code for is decided in one place, {@code internal.arch.Backends}.
 */
public enum Arch {
    /** x86-64. */
    X86_64("x86_64", 334, 324, 0x53053053),
    /** aarch64. */
    AARCH64("aarch64", 293, 283, 0xd428bc00),
    /** Anything else: no rseq support in rseq4j. */
    OTHER("other", -1, -1, 0);

    private final String displayName;
    private final int rseqSyscall;
    private final int membarrierSyscall;
    private final int signature;

    Arch(String displayName, int rseqSyscall, int membarrierSyscall, int signature) {
        this.displayName = displayName;
        this.rseqSyscall = rseqSyscall;
        this.membarrierSyscall = membarrierSyscall;
        this.signature = signature;
    }

    /**
     * The architecture this JVM runs on, from {@code os.arch}.
     *
     * @return the matching constant, {@link #OTHER} for an architecture rseq4j does not know
     */
    public static Arch current() {
        String a = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return switch (a) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> OTHER;
        };
    }

    /**
     * Name as the kernel spells it (uname -m).
     *
     * @return the name, such as {@code x86_64}; {@code other} for {@link #OTHER}
     */
    public String displayName() { return displayName; }

    /**
     * Number of the rseq system call, or -1.
     *
     * @return the system call number on this architecture, -1 for {@link #OTHER}
     */
    public int rseqSyscall() { return rseqSyscall; }

    /**
     * Number of the membarrier system call, or -1.
     *
     * @return the system call number on this architecture, -1 for {@link #OTHER}
     */
    public int membarrierSyscall() { return membarrierSyscall; }

    /**
     * The 32-bit signature that must precede every abort handler.
     *
     * @return the value registered with the kernel and placed before each abort handler
     *         (on x86-64 and aarch64, the one glibc uses); 0 for {@link #OTHER}
     */
    public int signature() { return signature; }
}
