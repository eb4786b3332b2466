package io.github.rseq4j;

import java.util.List;

/**
 * What rseq4j found on this machine and chose to do, as returned by {@link Rseq#status()}.
 * Immutable; all fields describe the moment of the call, and {@link #registration} and
 * {@link #cpu} describe the calling thread.
 *
 * @param os                 operating system name
 * @param arch               architecture as the kernel names it ({@code x86_64}, {@code aarch64}, ...)
 * @param codeGenerator      whether rseq4j can generate critical sections for {@link #arch}
 * @param kernelRseq         whether the kernel has the rseq system call
 * @param kernelProbe        the probe {@code rseq(NULL, 0, 0, 0)}: {@code present} (EINVAL),
 *                           {@code absent} (ENOSYS), {@code denied} (EPERM) or {@code unknown}
 * @param featureSize        AT_RSEQ_FEATURE_SIZE (20 when the kernel does not report it, 0 without rseq)
 * @param rseqAlign          AT_RSEQ_ALIGN (32 when not reported)
 * @param nodeId             whether {@code node_id} is usable (feature size >= 24)
 * @param mmCid              whether {@code mm_cid} is usable (feature size >= 28)
 * @param glibcRseq          whether glibc exports {@code __rseq_offset}/{@code __rseq_size} (2.35+)
 * @param glibcRseqSize      {@code __rseq_size} as glibc exports it (0: glibc did not register)
 * @param glibcRseqOffset    {@code __rseq_offset}
 * @param registration       who registered the calling thread: {@code glibc}, {@code own} or {@code none}
 * @param registrationStrategy how rseq4j finds areas in this process: {@code glibc}, {@code own} or {@code none}
 * @param membarrierRseq     whether membarrier(PRIVATE_EXPEDITED_RSEQ) is available
 * @param fence              how rseq4j fences other CPUs: {@code membarrier}, {@code affinity} or {@code none}
 * @param possibleCpus       the possible CPUs (/sys/devices/system/cpu/possible)
 * @param allowedCpus        the CPUs the calling thread may run on
 * @param mode               {@code rseq} or {@code fallback}
 * @param modeReason         in words, why that mode
 * @param cpu                the CPU the calling thread ran on during the call
 * @param fallbacks          how many operations completed on the fallback path, by reason
 * @param registrationRefusals threads the kernel refused to register for rseq4j (another rseq
 *                           user had registered them first); those threads use the fallback path
 * @param lastRefusalErrno   errno of the last such refusal (EINVAL or EBUSY), or 0
 */
public record RseqStatus(String os,
                         String arch,
                         boolean codeGenerator,
                         boolean kernelRseq,
                         String kernelProbe,
                         int featureSize,
                         int rseqAlign,
                         boolean nodeId,
                         boolean mmCid,
                         boolean glibcRseq,
                         int glibcRseqSize,
                         long glibcRseqOffset,
                         String registration,
                         String registrationStrategy,
                         boolean membarrierRseq,
                         String fence,
                         List<Integer> possibleCpus,
                         List<Integer> allowedCpus,
                         String mode,
                         String modeReason,
                         int cpu,
                         FallbackCounts fallbacks,
                         long registrationRefusals,
                         int lastRefusalErrno) {

    public RseqStatus {
        possibleCpus = List.copyOf(possibleCpus);
        allowedCpus = List.copyOf(allowedCpus);
    }

    /** Whether rseq4j runs per-CPU operations as rseq critical sections. */
    public boolean rseqMode() {
        return "rseq".equals(mode);
    }

    /**
     * Operations that could not commit as a critical section and completed on the
     * stop-and-fence path instead, counted by why. In fallback mode every operation takes
     * the portable path and is counted in {@link #portable}.
     *
     * @param notRegistered the thread had no usable registration
     * @param aborted       the sequence kept aborting past the retry bound
     * @param stopped       the slice was stopped by someone else
     * @param portable      operations run in portable mode (no rseq at all)
     * @param aborts        critical-section aborts seen by generated code (each retried)
     */
    public record FallbackCounts(long notRegistered, long aborted, long stopped, long portable, long aborts) {
        /** Total operations that took a fallback path in rseq mode. */
        public long total() {
            return notRegistered + aborted + stopped;
        }
    }
}
