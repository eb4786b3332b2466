package io.github.rseq4j.internal.abi;

/**
 * Layout of the kernel's {@code struct rseq} and {@code struct rseq_cs}, and the
 * constants of the rseq and membarrier system calls (see RSEQ-FACTS sections 1 and 3).
 *
 * <p>Offsets are byte offsets into the per-thread area. {@code cpu_id_start} is read-only
 * for user space: nothing in rseq4j ever writes it.
 */
public final class RseqAbi {
    private RseqAbi() {}

    /** u32 cpu_id_start: always a valid CPU; never written by rseq4j. */
    public static final int CPU_ID_START = 0;
    /** u32 cpu_id: current CPU, or a negative value when not registered. */
    public static final int CPU_ID = 4;
    /** u64 rseq_cs: pointer to the active critical-section descriptor. */
    public static final int RSEQ_CS = 8;
    /** u32 flags: must stay 0. */
    public static final int FLAGS = 16;
    /** u32 node_id (Linux 6.3+). */
    public static final int NODE_ID = 20;
    /** u32 mm_cid (Linux 6.3+). */
    public static final int MM_CID = 24;

    /** Smallest registration length the kernel accepts. */
    public static final int MIN_AREA_SIZE = 32;
    /** The feature size a kernel without AT_RSEQ_FEATURE_SIZE supports. */
    public static final int ORIGINAL_FEATURE_SIZE = 20;

    /** cpu_id value: registered area not yet (or no longer) registered. */
    public static final int CPU_ID_UNINITIALIZED = -1;
    /** cpu_id value glibc writes when its registration failed or was disabled. */
    public static final int CPU_ID_REGISTRATION_FAILED = -2;

    /** rseq() flag: unregister. */
    public static final int FLAG_UNREGISTER = 1;

    /** getauxval key: the size of {@code struct rseq} the kernel fills in (Linux 6.3+). */
    public static final long AT_RSEQ_FEATURE_SIZE = 27;
    /** getauxval key: the alignment the kernel requires of an rseq area (Linux 6.3+). */
    public static final long AT_RSEQ_ALIGN = 28;

    /** struct rseq_cs: size and alignment (32), field offsets. */
    public static final int CS_SIZE = 32;
    /** struct rseq_cs: u32 version, always 0. */
    public static final int CS_VERSION = 0;
    /** struct rseq_cs: u32 flags, always 0. */
    public static final int CS_FLAGS = 4;
    /** struct rseq_cs: u64 start_ip, the address of the section's first instruction. */
    public static final int CS_START_IP = 8;
    /** struct rseq_cs: u64 post_commit_offset, the section's length up to and including the commit. */
    public static final int CS_POST_COMMIT_OFFSET = 16;
    /** struct rseq_cs: u64 abort_ip, where the kernel resumes an aborted section (after the signature). */
    public static final int CS_ABORT_IP = 24;

    /** membarrier command: returns the bit mask of the supported commands. */
    public static final int MEMBARRIER_CMD_QUERY = 0;
    /** membarrier command: restart the rseq critical sections running on the process's CPUs. */
    public static final int MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 1 << 7;
    /** membarrier command: declares the intent to use {@link #MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ}. */
    public static final int MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 1 << 8;
    /** membarrier flag: the fence targets the one CPU given as the call's third argument. */
    public static final int MEMBARRIER_CMD_FLAG_CPU = 1;

    /** errno: operation not permitted (a seccomp filter or policy denies the call). */
    public static final int EPERM = 1;
    /** errno: interrupted system call. */
    public static final int EINTR = 4;
    /** errno: no such device or address (membarrier: the target CPU is not online). */
    public static final int ENXIO = 6;
    /** errno: device or resource busy (rseq: the thread is already registered). */
    public static final int EBUSY = 16;
    /** errno: bad address. */
    public static final int EFAULT = 14;
    /** errno: invalid argument (also the answer of the rseq probe when the call exists). */
    public static final int EINVAL = 22;
    /** errno: function not implemented (no such system call in this kernel). */
    public static final int ENOSYS = 38;

    /**
     * Whether a field at {@code offset} is usable under {@code featureSize}.
     *
     * @param offset      the byte offset of a 4-byte field of {@code struct rseq}
     * @param featureSize the kernel's AT_RSEQ_FEATURE_SIZE
     * @return {@code true} when the kernel fills in the whole field
     */
    public static boolean fieldUsable(int offset, int featureSize) {
        return featureSize >= offset + 4;
    }
}
