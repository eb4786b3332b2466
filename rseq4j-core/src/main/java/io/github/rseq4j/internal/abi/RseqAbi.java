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

    /** getauxval keys. */
    public static final long AT_RSEQ_FEATURE_SIZE = 27;
    public static final long AT_RSEQ_ALIGN = 28;

    /** struct rseq_cs: size and alignment (32), field offsets. */
    public static final int CS_SIZE = 32;
    public static final int CS_VERSION = 0;
    public static final int CS_FLAGS = 4;
    public static final int CS_START_IP = 8;
    public static final int CS_POST_COMMIT_OFFSET = 16;
    public static final int CS_ABORT_IP = 24;

    /** membarrier commands. */
    public static final int MEMBARRIER_CMD_QUERY = 0;
    public static final int MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 1 << 7;
    public static final int MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 1 << 8;
    public static final int MEMBARRIER_CMD_FLAG_CPU = 1;

    /** errno values used by the rseq and membarrier calls. */
    public static final int EPERM = 1;
    public static final int EINTR = 4;
    public static final int ENXIO = 6;
    public static final int EBUSY = 16;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;

    /** Whether a field at {@code offset} is usable under {@code featureSize}. */
    public static boolean fieldUsable(int offset, int featureSize) {
        return featureSize >= offset + 4;
    }
}
