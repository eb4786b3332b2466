package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;

import java.util.List;
import java.util.Locale;

/**
 * Facts about this process and machine, gathered once: the kernel's rseq support, the
 * C library's registration, membarrier, CPUs. Pure detection; nothing is registered or
 * generated here.
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

    /** The platform of this process. */
    public static Platform get() {
        return Holder.INSTANCE;
    }

    static Platform detect() {
        Arch arch = Arch.current();
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        if (!linux || !Libc.AVAILABLE) {
            return new Platform(arch, linux, KernelRseq.Probe.ABSENT, 0, 0,
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

    /** Whether the kernel fills in node_id. */
    public boolean nodeIdUsable() {
        return RseqAbi.fieldUsable(RseqAbi.NODE_ID, featureSize);
    }

    /** Whether the kernel fills in mm_cid. */
    public boolean mmCidUsable() {
        return RseqAbi.fieldUsable(RseqAbi.MM_CID, featureSize);
    }

    /**
     * Number of slices per-CPU memory needs: highest possible CPU + 1, and never less than
     * the JVM's processor count (a safety margin where the possible list is unreadable).
     */
    public int sliceCount() {
        int highest = possibleCpus.isEmpty() ? 0 : possibleCpus.getLast() + 1;
        return Math.max(highest, Runtime.getRuntime().availableProcessors());
    }
}
