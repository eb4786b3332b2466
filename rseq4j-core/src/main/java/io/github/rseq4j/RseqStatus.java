package io.github.rseq4j;

import java.util.List;

/**
 * What rseq4j found on this machine and chose to do, as returned by {@link Rseq#status()}.
 * Immutable; it describes the moment of the call, and {@link #thread()} describes the
 * calling thread.
 *
 * <p>An interface, so that a fact added later is one more method (with a default) rather
 * than a changed constructor; the nested records are its parts. Implementations other than
 * rseq4j's own are for tests (a synthetic status for a report, say).
 */
public interface RseqStatus {

    /**
     * Whether per-CPU operations run as rseq critical sections.
     *
     * @return the process's mode, fixed for its life
     */
    Mode mode();

    /**
     * Why that mode, in words.
     *
     * @return the reason, such as the missing native-access flag in portable mode
     */
    String modeReason();

    /**
     * The operating system.
     *
     * @return its name, as {@code os.name}
     */
    String os();

    /**
     * The architecture as the kernel names it.
     *
     * @return {@code x86_64}, {@code aarch64}, ...
     */
    String arch();

    /**
     * Whether rseq4j generates critical sections for {@link #arch()}.
     *
     * @return {@code true} for an architecture with a code generator
     */
    boolean codeGenerator();

    /**
     * What the kernel offers.
     *
     * @return the kernel's rseq facts
     */
    Kernel kernel();

    /**
     * What the C library did.
     *
     * @return glibc's rseq facts
     */
    Glibc glibc();

    /**
     * How rseq4j finds rseq areas in this process.
     *
     * @return glibc's registration, rseq4j's own, or none (portable mode)
     */
    RegistrationKind registrationStrategy();

    /**
     * How rseq4j fences other CPUs.
     *
     * @return the fence mechanism
     */
    FenceKind fence();

    /**
     * The possible CPUs ({@code /sys/devices/system/cpu/possible}).
     *
     * @return an immutable list of CPU numbers
     */
    List<Integer> possibleCpus();

    /**
     * The calling thread.
     *
     * @return its registration, CPU and allowed CPUs
     */
    ThreadState thread();

    /**
     * Operations that completed off the rseq fast path, by reason.
     *
     * @return the counts so far
     */
    Fallbacks fallbacks();

    /**
     * Threads the kernel refused to register for rseq4j.
     *
     * @return how many, and the last errno
     */
    Refusals refusals();

    /**
     * Rejected {@code -Drseq4j.*} settings.
     *
     * @return an immutable list, each with the accepted values
     */
    List<String> settingProblems();

    /**
     * Whether the settings asked for portable mode ({@code -Drseq4j.mode=portable}, or
     * {@code fallback}, its name before 0.1.0), as opposed to portable mode chosen because
     * rseq is unavailable here.
     *
     * @return {@code true} when the setting forced portable mode; {@code false} by default
     *         for other implementations
     */
    default boolean portableRequested() {
        return false;
    }

    /**
     * Whether the settings asked for the affinity fence ({@code -Drseq4j.fence=affinity})
     * instead of membarrier where the kernel has it.
     *
     * @return {@code true} when the setting asked for it; {@code false} by default for other
     *         implementations
     */
    default boolean affinityFenceRequested() {
        return false;
    }

    /** How per-CPU operations run in this process. */
    public enum Mode {
        /** As rseq critical sections (generated code). */
        RSEQ,
        /**
         * Portable mode: on atomics, with the same API and guarantees ({@code FALLBACK} before
         * 0.1.0; "fallback" now names only the stop-and-fence path an operation takes in rseq
         * mode when its critical section cannot decide).
         */
        PORTABLE
    }

    /** The answer of the probe {@code rseq(NULL, 0, 0, 0)}. */
    public enum KernelProbe {
        /** EINVAL: the system call exists. */
        PRESENT,
        /** ENOSYS: no rseq system call (Linux before 4.18). */
        ABSENT,
        /** EPERM: a seccomp filter or container policy blocks it. */
        DENIED,
        /** Anything else. */
        UNKNOWN,
        /**
         * Not asked: rseq4j cannot make system calls in this JVM (native access denied, or
         * the C library lacks a function); the mode reason says which.
         */
        NOT_PROBED
    }

    /** How other CPUs are fenced (the stop protocol). */
    public enum FenceKind {
        /** membarrier(PRIVATE_EXPEDITED_RSEQ), Linux 5.10+. */
        MEMBARRIER,
        /** The caller moves onto the target CPU with sched_setaffinity. */
        AFFINITY,
        /** No fences are needed: portable mode. */
        NONE
    }

    /**
     * Whether rseq4j runs per-CPU operations as rseq critical sections.
     *
     * @return {@code true} when {@link #mode()} is {@link Mode#RSEQ}
     */
    default boolean rseqMode() {
        return mode() == Mode.RSEQ;
    }

    /**
     * What the kernel offers.
     *
     * @param rseq           whether the rseq system call exists
     * @param probe          the probe's answer
     * @param featureSize    AT_RSEQ_FEATURE_SIZE (20 when the kernel does not report it, 0 without rseq)
     * @param align          AT_RSEQ_ALIGN (32 when not reported)
     * @param nodeId         whether {@code node_id} is usable (feature size >= 24)
     * @param mmCid          whether {@code mm_cid} is usable (feature size >= 28)
     * @param membarrierRseq whether membarrier(PRIVATE_EXPEDITED_RSEQ) is available
     */
    public record Kernel(boolean rseq, KernelProbe probe, int featureSize, int align, boolean nodeId, boolean mmCid,
                         boolean membarrierRseq) {}

    /**
     * What glibc did.
     *
     * @param exportsRseq whether glibc exports {@code __rseq_offset}/{@code __rseq_size} (2.35+)
     * @param rseqSize    {@code __rseq_size} (0: glibc did not register threads)
     * @param rseqOffset  {@code __rseq_offset}
     */
    public record Glibc(boolean exportsRseq, int rseqSize, long rseqOffset) {
        /**
         * Whether glibc registered this process's threads.
         *
         * @return {@code true} when {@code __rseq_size} is positive: glibc registers every
         *         thread, and rseq4j uses its areas
         */
        public boolean registered() {
            return rseqSize > 0;
        }
    }

    /**
     * The calling thread.
     *
     * @param registration who registered its rseq area
     * @param cpu          the CPU it ran on during the call
     * @param allowedCpus  the CPUs it may run on
     */
    public record ThreadState(RegistrationKind registration, int cpu, List<Integer> allowedCpus) {
        /**
         * A thread's state; the CPU list is copied.
         *
         * @param registration who registered its rseq area
         * @param cpu          the CPU it ran on during the call
         * @param allowedCpus  the CPUs it may run on
         */
        public ThreadState {
            allowedCpus = List.copyOf(allowedCpus);
        }
    }

    /**
     * Operations that could not commit as a critical section and completed on the
     * stop-and-fence path instead, counted by why. In portable mode every operation is
     * counted in {@link #portable}.
     *
     * @param notRegistered the thread had no usable registration
     * @param aborted       the sequence kept aborting past the retry bound
     * @param stopped       the slice was stopped by someone else
     * @param portable      operations run in portable mode (no rseq at all)
     * @param aborts        critical-section aborts seen by generated code (each retried)
     * @param budgetCuts    times a thread whose operation exhausted its attempts was cut to one
     *                      attempt per operation (so that an abort storm costs one aborted attempt
     *                      per operation); it gets the full budget back after its sections commit again
     * @param budgetRestores times a cut thread got its full budget back
     */
    public record Fallbacks(long notRegistered, long aborted, long stopped, long portable, long aborts,
                            long budgetCuts, long budgetRestores) {
        /**
         * Total operations that took a fallback path in rseq mode.
         *
         * @return {@code notRegistered + aborted + stopped}; portable-mode operations are not
         *         included
         */
        public long total() {
            return notRegistered + aborted + stopped;
        }
    }

    /**
     * Threads the kernel refused to register for rseq4j (another rseq user had registered
     * them first); those threads use the fallback path.
     *
     * @param count     how many threads
     * @param lastErrno errno of the last refusal (EINVAL or EBUSY), or 0
     */
    public record Refusals(long count, int lastErrno) {}
}
