package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;

/** Thin wrappers for the rseq and membarrier system calls; results are values or -errno. */
public final class KernelRseq {
    private KernelRseq() {}

    /** Outcome of the {@code rseq(NULL, 0, 0, 0)} probe. */
    public enum Probe {
        /** EINVAL: the kernel has rseq. */
        PRESENT,
        /** ENOSYS: no rseq in this kernel (or not Linux). */
        ABSENT,
        /** EPERM: a seccomp filter (or similar) denies it. */
        DENIED,
        /** Something else, or no way to ask. */
        UNKNOWN,
        /** Not asked: rseq4j cannot make system calls here (see {@link Libc#UNAVAILABLE_REASON}). */
        NOT_PROBED
    }

    /**
     * {@code rseq(area, len, flags, sig)}: 0 or -errno.
     *
     * @param arch  the architecture, for the system call number
     * @param area  the address of the thread's {@code struct rseq} (0 for the probe)
     * @param len   the registered length of the area in bytes
     * @param flags 0 to register, {@link RseqAbi#FLAG_UNREGISTER} to unregister
     * @param sig   the abort signature every abort handler is preceded by
     * @return 0 on success, else minus the errno ({@code -ENOSYS} where the architecture has
     *         no rseq)
     */
    public static int rseq(Arch arch, long area, int len, int flags, int sig) {
        if (arch.rseqSyscall() < 0) {
            return -RseqAbi.ENOSYS;
        }
        return (int) Libc.syscall(arch.rseqSyscall(), area, len & 0xFFFFFFFFL, flags, sig & 0xFFFFFFFFL);
    }

    /**
     * Asks the kernel whether rseq exists, without registering anything.
     *
     * @param arch the architecture, for the system call number
     * @return the probe's outcome; {@link Probe#ABSENT} without the C library or a system
     *         call number
     */
    public static Probe probe(Arch arch) {
        if (!Libc.AVAILABLE || arch.rseqSyscall() < 0) {
            return Probe.ABSENT;
        }
        int r = rseq(arch, 0, 0, 0, 0);
        return switch (-r) {
            case RseqAbi.EINVAL -> Probe.PRESENT;
            case RseqAbi.ENOSYS -> Probe.ABSENT;
            case RseqAbi.EPERM -> Probe.DENIED;
            default -> Probe.UNKNOWN;
        };
    }

    /**
     * {@code membarrier(cmd, flags, cpu)}: result or -errno.
     *
     * @param arch  the architecture, for the system call number
     * @param cmd   a {@code MEMBARRIER_CMD_*} command of {@link RseqAbi}
     * @param flags 0, or {@link RseqAbi#MEMBARRIER_CMD_FLAG_CPU} to target one CPU
     * @param cpu   the target CPU with {@code MEMBARRIER_CMD_FLAG_CPU}, else ignored
     * @return the call's result (a command mask for a query, else 0), or minus the errno
     */
    public static long membarrier(Arch arch, int cmd, int flags, int cpu) {
        if (!Libc.AVAILABLE || arch.membarrierSyscall() < 0) {
            return -RseqAbi.ENOSYS;
        }
        return Libc.syscall(arch.membarrierSyscall(), cmd, flags, cpu);
    }
}
