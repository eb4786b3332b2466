package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;

import java.util.List;
import java.util.Locale;

/**
 * Facts about this process and machine, gathered once: the kernel's rseq support, the
 * C library's registration, membarrier, CPUs. Pure detection; nothing is registered or
 * generated here.
 *
 * @param arch           the processor architecture
 * @param linux          whether the operating system is Linux
 * @param probe          the answer of the {@code rseq(NULL, 0, 0, 0)} probe
 * @param featureSize    AT_RSEQ_FEATURE_SIZE (20 when the kernel does not report it, 0 without rseq)
 * @param rseqAlign      AT_RSEQ_ALIGN (32 when not reported)
 * @param glibc          what glibc exports about its own registration
 * @param membarrierRseq whether membarrier(PRIVATE_EXPEDITED_RSEQ) and its registration exist
 * @param possibleCpus   the possible CPUs, ascending
 */
public record Platform(Arch arch,
                       boolean linux,
                       KernelRseq.Probe probe,
                       int featureSize,
                       int rseqAlign,
                       GlibcRseq glibc,
                       boolean membarrierRseq,
                       List<Integer> possibleCpus) {

    private static final class Holder {
        static final Platform INSTANCE = detect();
    }

    /**
     * The platform of this process.
     *
     * @return the facts detected on first use, the same instance every time
     */
    public static Platform get() {
        return Holder.INSTANCE;
    }

    static Platform detect() {
        Arch arch = Arch.current();
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        if (!linux || !Libc.AVAILABLE) {
            return new Platform(arch, linux, linux ? KernelRseq.Probe.NOT_PROBED : KernelRseq.Probe.ABSENT, 0, 0,
                    new GlibcRseq(false, 0, 0, 0, 0), false, List.of(0));
        }
        KernelRseq.Probe probe = KernelRseq.probe(arch);
        long fs = Libc.getauxval(RseqAbi.AT_RSEQ_FEATURE_SIZE);
        long align = Libc.getauxval(RseqAbi.AT_RSEQ_ALIGN);
        int featureSize = probe == KernelRseq.Probe.PRESENT
                ? (fs == 0 ? RseqAbi.ORIGINAL_FEATURE_SIZE : (int) fs) : 0;
        int rseqAlign = align == 0 ? RseqAbi.MIN_AREA_SIZE : (int) align;
        GlibcRseq glibc = GlibcRseq.read(featureSize);
        long mask = KernelRseq.membarrier(arch, RseqAbi.MEMBARRIER_CMD_QUERY, 0, 0);
        boolean membarrier = mask > 0
                && (mask & RseqAbi.MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) != 0
                && (mask & RseqAbi.MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ) != 0;
        return new Platform(arch, true, probe, featureSize, rseqAlign, glibc, membarrier, CpuSets.possible());
    }

    /**
     * Whether the kernel fills in node_id.
     *
     * @return {@code true} when the feature size covers {@code node_id} (Linux 6.3+)
     */
    public boolean nodeIdUsable() {
        return RseqAbi.fieldUsable(RseqAbi.NODE_ID, featureSize);
    }

    /**
     * Whether the kernel fills in mm_cid.
     *
     * @return {@code true} when the feature size covers {@code mm_cid} (Linux 6.3+)
     */
    public boolean mmCidUsable() {
        return RseqAbi.fieldUsable(RseqAbi.MM_CID, featureSize);
    }

    /**
     * Number of slices per-CPU memory needs: highest possible CPU + 1, and never less than
     * the JVM's processor count (a safety margin where the possible list is unreadable).
     *
     * @return how many slices every per-CPU memory range has
     */
    public int sliceCount() {
        int highest = possibleCpus.isEmpty() ? 0 : possibleCpus.getLast() + 1;
        return Math.max(highest, Runtime.getRuntime().availableProcessors());
    }
}
