package io.github.rseq4j.internal;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.asm.ExecutableMemory;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.fallback.FallbackStats;
import io.github.rseq4j.internal.fence.Fences;
import io.github.rseq4j.internal.memory.SliceLayout;
import io.github.rseq4j.internal.ops.AreaFieldReader;
import io.github.rseq4j.internal.ops.Backends;
import io.github.rseq4j.internal.ops.GeneratorConfig;
import io.github.rseq4j.internal.ops.MacroAssembler;
import io.github.rseq4j.internal.ops.OperationSet;
import io.github.rseq4j.internal.os.KernelRseq;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.registration.AreaLocation;
import io.github.rseq4j.internal.registration.OwnRegistrar;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The process-wide decisions of rseq4j, made once: rseq or fallback mode and why, how
 * areas are found (glibc's or rseq4j's own registration), the generated code, the fences.
 *
 * <p>Hot paths read the {@code static final} fields of {@link Ops}, so that the JIT sees
 * the generated functions' handles as constants and inlines the downcalls.
 *
 * <p>System properties: {@code rseq4j.mode} = {@code auto} (default), {@code rseq} or
 * {@code fallback}; {@code rseq4j.maxAttempts} (default 8): how many times a critical
 * section may start before reporting ABORTED; {@code rseq4j.fence} = {@code auto} or
 * {@code affinity} (use the pre-5.10 affinity fence even where membarrier exists).
 */
public final class RseqRuntime {

    /** Registration strategies. */
    public enum Strategy {
        GLIBC, OWN, NONE;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public final Platform platform;
    public final boolean rseqMode;
    public final String modeReason;
    public final Strategy strategy;
    public final OwnRegistrar own;
    public final AreaLocation location;
    public final Fences fences;
    public final FallbackStats stats = new FallbackStats();
    public final int maxAttempts;
    /** Address of the 64-bit abort counter generated code increments (0 in fallback mode). */
    public final long abortCounter;
    public final OperationSet cpuIdOps;
    public final OperationSet concurrencyIdOps;
    final MethodHandle readCpu;
    final MethodHandle readNode;
    final MethodHandle readMmCid;
    final MethodHandle readArea;

    private static final class Holder {
        static final RseqRuntime INSTANCE = new RseqRuntime();
    }

    public static RseqRuntime get() {
        return Holder.INSTANCE;
    }

    private RseqRuntime() {
        this.platform = Platform.get();
        String requested = System.getProperty("rseq4j.mode", "auto").strip().toLowerCase(Locale.ROOT);
        if (!requested.equals("auto") && !requested.equals("rseq") && !requested.equals("fallback")) {
            throw new IllegalArgumentException("-Drseq4j.mode must be auto, rseq or fallback, not '" + requested + "'");
        }
        this.maxAttempts = Integer.getInteger("rseq4j.maxAttempts", 8);
        if (maxAttempts < 1 || maxAttempts > 1_000_000) {
            throw new IllegalArgumentException("-Drseq4j.maxAttempts must be 1 to 1000000: " + maxAttempts);
        }
        String why = unavailableReason(platform);
        if (requested.equals("fallback")) {
            why = "forced by -Drseq4j.mode=fallback";
        }
        Strategy strat = Strategy.NONE;
        OwnRegistrar ownReg = null;
        AreaLocation loc = null;
        OperationSet cpuOps = null, cidOps = null;
        MethodHandle rc = null, rn = null, rm = null, ra = null;
        long counter = 0;
        if (why == null) {
            try {
                if (platform.glibc().registered()) {
                    strat = Strategy.GLIBC;
                    loc = new AreaLocation.ThreadPointerOffset(platform.glibc().offset());
                } else {
                    strat = Strategy.OWN;
                    ownReg = new OwnRegistrar(platform.arch(), platform.featureSize(), platform.rseqAlign());
                    loc = ownReg.location();
                }
                counter = Libc.mmapAnonymous(4096, Libc.PROT_READ | Libc.PROT_WRITE, false);
                cpuOps = OperationSet.generate(platform.arch(), loc, config(IndexMode.CPU_ID, 0, 0, counter));
                if (platform.mmCidUsable()) {
                    cidOps = OperationSet.generate(platform.arch(), loc,
                            config(IndexMode.CONCURRENCY_ID, 0, 0, counter));
                }
                MacroAssembler a = Backends.create(platform.arch(), loc);
                Label cpu = AreaFieldReader.emit(a, "readCpu", RseqAbi.CPU_ID);
                Label node = AreaFieldReader.emit(a, "readNode", RseqAbi.NODE_ID);
                Label cid = AreaFieldReader.emit(a, "readMmCid", RseqAbi.MM_CID);
                Label area = AreaFieldReader.emitAreaAddress(a, "readArea");
                ExecutableMemory.Block block = ExecutableMemory.install(a.buffer());
                Linker linker = Linker.nativeLinker();
                FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_LONG);
                rc = linker.downcallHandle(block.entry(cpu), fd, Linker.Option.critical(false));
                rn = linker.downcallHandle(block.entry(node), fd, Linker.Option.critical(false));
                rm = linker.downcallHandle(block.entry(cid), fd, Linker.Option.critical(false));
                ra = linker.downcallHandle(block.entry(area), fd, Linker.Option.critical(false));
                why = strat == Strategy.GLIBC
                        ? "kernel rseq present, glibc registered every thread, code generated for " + platform.arch().displayName()
                        : "kernel rseq present, glibc did not register: rseq4j registers threads itself, code generated for "
                        + platform.arch().displayName();
            } catch (RuntimeException | LinkageError e) {
                why = "setting up rseq failed (" + e + "); using the portable mode";
                strat = Strategy.NONE;
                ownReg = null;
                loc = null;
                cpuOps = null;
                cidOps = null;
            }
        }
        this.rseqMode = cpuOps != null;
        this.modeReason = why;
        this.strategy = strat;
        this.own = ownReg;
        this.location = loc;
        this.abortCounter = counter;
        this.cpuIdOps = cpuOps;
        this.concurrencyIdOps = cidOps;
        this.readCpu = rc;
        this.readNode = rn;
        this.readMmCid = rm;
        this.readArea = ra;
        this.fences = new Fences(platform, rseqMode,
                "affinity".equals(System.getProperty("rseq4j.fence", "auto")));
    }

    /** Why rseq mode is impossible here, or null when it is possible. */
    private static String unavailableReason(Platform p) {
        if (!p.linux()) {
            return "not Linux: rseq is a Linux system call";
        }
        return switch (p.probe()) {
            case ABSENT -> "the kernel has no rseq system call (ENOSYS; Linux 4.18+ has it)";
            case DENIED -> "rseq is denied (EPERM): a seccomp filter or container policy blocks it";
            case UNKNOWN -> "the rseq probe gave an unexpected answer";
            case PRESENT -> p.arch().hasCodeGenerator() ? null
                    : "rseq4j cannot generate code for " + p.arch().displayName() + " yet";
        };
    }

    /** The generator configuration for this process's settings. */
    public GeneratorConfig config(IndexMode mode, int delayPoint, long delayLoops, long abortCounterAddress) {
        return new GeneratorConfig(mode, SliceLayout.STRIDE_SHIFT, maxAttempts, delayPoint, delayLoops,
                abortCounterAddress, platform.sliceCount());
    }

    /** Operations for an index mode, or null in fallback mode (or mm_cid unsupported). */
    public OperationSet ops(IndexMode mode) {
        return mode == IndexMode.CPU_ID ? cpuIdOps : concurrencyIdOps;
    }

    /** Aborts counted by generated code so far. */
    public long aborts() {
        if (abortCounter == 0) {
            return 0;
        }
        return MemorySegment.ofAddress(abortCounter).reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /** The probe result as a word. */
    public String probeWord() {
        return platform.probe().name().toLowerCase(Locale.ROOT);
    }

    public boolean kernelRseq() {
        return platform.probe() == KernelRseq.Probe.PRESENT;
    }
}
