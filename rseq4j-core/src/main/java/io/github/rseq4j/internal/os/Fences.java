package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.abi.RseqAbi;

import java.util.List;

/**
 * Cross-CPU fences: after {@link #fence(int)} returns, every rseq critical section that
 * was running on that CPU has been aborted (or had committed, and its store is visible to
 * the caller); {@link #fenceAll()} does the same for every CPU.
 *
 * <p><b>Implementation notes.</b> With membarrier(PRIVATE_EXPEDITED_RSEQ) (Linux 5.10+) a fence
 * is one system call (about 130 ns here): the kernel interrupts the target CPU(s) if they
 * run a thread of this process, and the interrupt aborts a critical section in progress
 * and acts as a full memory barrier there. A critical section that was preempted rather
 * than running will abort when it resumes, so it needs nothing. An absent or offline CPU
 * (ENXIO or EINVAL) runs nothing and needs no fence.
 *
 * <p>Without that command, a fence moves the calling OS thread onto the target CPU with
 * sched_setaffinity (as tcmalloc does before Linux 5.10): once the caller runs there, any
 * thread that was inside a critical section on that CPU has been preempted and will
 * abort when it resumes, and the context switch is a full barrier. The caller's affinity
 * is restored afterwards. This is slower (a migration per CPU) but needs nothing from the
 * kernel beyond affinity; a CPU the caller may not run on cannot be fenced this way and
 * fails with a clear exception.
 *
 * <p>In portable mode there are no critical sections, and fences do nothing.
 */
public final class Fences {

    /** How fences are made. */
    public enum Kind {
        /** One membarrier(PRIVATE_EXPEDITED_RSEQ) system call per fence (Linux 5.10+). */
        MEMBARRIER,
        /** The caller migrates onto each target CPU with sched_setaffinity. */
        AFFINITY,
        /** Portable mode: no critical sections, so fences do nothing. */
        NONE;

        /**
         * The kind's name for reports.
         *
         * @return the constant's name in lower case, such as {@code membarrier}
         */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Platform platform;
    private final Kind kind;

    /**
     * Chooses how to fence, and registers the process for membarrier RSEQ fences when the
     * kernel offers them.
     *
     * @param platform the facts about this machine (architecture, membarrier support,
     *                 possible CPUs)
     * @param rseqMode whether critical sections exist in this process
     * @param forceAffinity use the affinity method even when membarrier exists (tests)
     */
    public Fences(Platform platform, boolean rseqMode, boolean forceAffinity) {
        this.platform = platform;
        Kind k = Kind.NONE;
        if (rseqMode) {
            k = Kind.AFFINITY;
            if (platform.membarrierRseq() && !forceAffinity) {
                long r = KernelRseq.membarrier(platform.arch(),
                        RseqAbi.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0);
                if (r == 0) {
                    k = Kind.MEMBARRIER;
                }
            }
        }
        this.kind = k;
    }

    /**
     * How fences are made in this process.
     *
     * @return the fence kind chosen at construction
     */
    public Kind kind() {
        return kind;
    }

    /**
     * Fences one CPU.
     *
     * @param cpu the CPU whose critical sections must be aborted or finished on return
     * @throws IllegalArgumentException when {@code cpu} is negative
     * @throws IllegalStateException    when the fence fails, or the affinity method cannot
     *                                  move this thread onto {@code cpu}
     */
    public void fence(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("cpu must be >= 0: " + cpu);
        }
        switch (kind) {
            case NONE -> { }
            case MEMBARRIER -> {
                long r = KernelRseq.membarrier(platform.arch(), RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
                        RseqAbi.MEMBARRIER_CMD_FLAG_CPU, cpu);
                if (r < 0 && r != -RseqAbi.ENXIO && r != -RseqAbi.EINVAL) {
                    throw new IllegalStateException("membarrier(PRIVATE_EXPEDITED_RSEQ, cpu " + cpu
                            + ") failed, errno " + -r);
                }
            }
            case AFFINITY -> affinityFence(List.of(cpu));
        }
    }

    /**
     * Fences every CPU.
     *
     * @throws IllegalStateException when the fence fails on some CPU
     */
    public void fenceAll() {
        switch (kind) {
            case NONE -> { }
            case MEMBARRIER -> {
                long r = KernelRseq.membarrier(platform.arch(), RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0);
                if (r < 0) {
                    throw new IllegalStateException("membarrier(PRIVATE_EXPEDITED_RSEQ) failed, errno " + -r);
                }
            }
            case AFFINITY -> affinityFence(platform.possibleCpus());
        }
    }

    private void affinityFence(List<Integer> cpus) {
        List<Integer> original = CpuSets.allowed();
        try {
            for (int cpu : cpus) {
                if (!original.contains(cpu)) {
                    if (!isOnline(cpu)) {
                        continue; // nothing runs there
                    }
                    throw new IllegalStateException("cannot fence CPU " + cpu + " by affinity: this thread may not run"
                            + " there (allowed " + original + "); membarrier(PRIVATE_EXPEDITED_RSEQ) needs Linux 5.10+");
                }
                int r = CpuSets.setAffinity(List.of(cpu));
                if (r != 0) {
                    throw new IllegalStateException("sched_setaffinity to CPU " + cpu + " failed, errno " + -r);
                }
                // The kernel migrates the caller before sched_setaffinity returns; check it.
                int spins = 0;
                while (Libc.schedGetcpu() != cpu) {
                    if (++spins > 100_000) {
                        throw new IllegalStateException("affinity fence: still not running on CPU " + cpu
                                + " after sched_setaffinity");
                    }
                    Thread.onSpinWait();
                }
            }
        } finally {
            CpuSets.setAffinity(original);
        }
    }

    private static boolean isOnline(int cpu) {
        try {
            return CpuSets.parseList(java.nio.file.Files.readString(
                    java.nio.file.Path.of("/sys/devices/system/cpu/online"))).contains(cpu);
        } catch (java.io.IOException | IllegalArgumentException e) {
            return true;
        }
    }
}
