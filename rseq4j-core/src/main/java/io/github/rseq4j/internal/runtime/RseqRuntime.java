package io.github.rseq4j.internal.runtime;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.arch.Backends;
import io.github.rseq4j.internal.asm.AreaLocation;
import io.github.rseq4j.internal.asm.Backend;
import io.github.rseq4j.internal.codegen.AreaReaders;
import io.github.rseq4j.internal.codegen.GeneratorConfig;
import io.github.rseq4j.internal.codegen.OperationSet;
import io.github.rseq4j.internal.os.Fences;
import io.github.rseq4j.internal.os.KernelRseq;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.registration.OwnRegistrar;
import io.github.rseq4j.internal.registration.RegistrationStrategy;
import io.github.rseq4j.internal.registration.ThreadRegistrations;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * The composition root: the process-wide decisions of rseq4j, made once, and the parts
 * built from them. It detects the platform, validates the settings, picks the back end,
 * sets up registration (glibc's or rseq4j's own), generates the area readers and the
 * operations for each index field, and chooses the fence; each part gets what it needs
 * through its constructor. Any failure to set up generated code leaves the process in
 * portable mode, with the reason in {@link #modeReason()}.
 *
 * <p>What the layers above need is handed down as a {@link RuntimeContext} ({@link #context()});
 * hot paths do not call this class: the process's context and operations are
 * {@code static final} fields of {@link JitConstants}, which the JIT folds.
 */
public final class RseqRuntime {

    private final Platform platform;
    private final Settings settings;
    private final Optional<Backend> backend;
    private final boolean rseqMode;
    private final String modeReason;
    private final RegistrationStrategy strategy;
    private final OwnRegistrar own;
    private final AreaLocation location;
    private final ThreadRegistrations registrations;
    private final AreaReaders readers;
    private final Fences fences;
    private final FallbackStats stats = new FallbackStats();
    /** Address of the 64-bit abort counter generated code increments (0 in portable mode). */
    private final long abortCounter;
    private final OperationSet cpuIdOps;
    private final OperationSet mmCidOps;
    private final RuntimeContext context;

    /**
     * Builds the runtime for {@code platform} and {@code settings}.
     *
     * @param platform the facts detected about this process and machine
     * @param settings the validated {@code rseq4j.*} system properties
     */
    public RseqRuntime(Platform platform, Settings settings) {
        this.platform = platform;
        this.settings = settings;
        this.backend = Backends.forArch(platform.arch());
        String why = settings.mode() == Settings.Mode.PORTABLE
                ? "forced by -D" + Settings.MODE + "=portable" : unavailableReason(platform, backend);
        RegistrationStrategy strat = RegistrationStrategy.NONE;
        OwnRegistrar ownReg = null;
        AreaLocation loc = null;
        AreaReaders rd = null;
        OperationSet cpuOps = null, cidOps = null;
        long counter = 0;
        if (why == null) {
            Backend b = backend.orElseThrow();
            try {
                if (platform.glibc().registered()) {
                    strat = RegistrationStrategy.GLIBC;
                    loc = new AreaLocation.ThreadPointerOffset(platform.glibc().offset());
                } else {
                    strat = RegistrationStrategy.OWN;
                    ownReg = new OwnRegistrar(b, platform.featureSize(), platform.rseqAlign());
                    loc = ownReg.location();
                }
                counter = Libc.mmapAnonymous(4096, Libc.PROT_READ | Libc.PROT_WRITE, false);
                cpuOps = OperationSet.generate(b, loc, config(IndexField.CPU_ID, 0, 0, counter));
                if (platform.mmCidUsable()) {
                    cidOps = OperationSet.generate(b, loc, config(IndexField.MM_CID, 0, 0, counter));
                }
                rd = AreaReaders.generate(b, loc);
                why = strat == RegistrationStrategy.GLIBC
                        ? "kernel rseq present, glibc registered every thread, code generated for "
                        + platform.arch().displayName()
                        : "kernel rseq present, glibc did not register: rseq4j registers threads itself, code generated for "
                        + platform.arch().displayName();
            } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
                why = "setting up rseq failed (" + e + "); using the portable mode";
                strat = RegistrationStrategy.NONE;
                ownReg = null;
                loc = null;
                rd = null;
                cpuOps = null;
                cidOps = null;
            }
        }
        this.rseqMode = cpuOps != null;
        this.modeReason = why;
        this.strategy = strat;
        this.own = ownReg;
        this.location = loc;
        this.readers = rd;
        this.abortCounter = rseqMode ? counter : 0;
        this.cpuIdOps = cpuOps;
        this.mmCidOps = cidOps;
        this.registrations = new ThreadRegistrations(strat, platform.glibc().registered(), ownReg, rd);
        this.fences = new Fences(platform, rseqMode, settings.fence() == Settings.FenceChoice.AFFINITY);
        this.context = new RuntimeContext(cpuIdOps, mmCidOps, fences, stats, registrations);
    }

    /** Why rseq mode is impossible here, or null when it is possible. */
    private static String unavailableReason(Platform p, Optional<Backend> backend) {
        if (!p.linux()) {
            return "not Linux: rseq is a Linux system call";
        }
        return switch (p.probe()) {
            case ABSENT -> "the kernel has no rseq system call (ENOSYS; Linux 4.18+ has it)";
            case DENIED -> "rseq is denied (EPERM): a seccomp filter or container policy blocks it";
            case UNKNOWN -> "the rseq probe gave an unexpected answer";
            case NOT_PROBED -> Libc.UNAVAILABLE_REASON;
            case PRESENT -> backend.isPresent() ? null
                    : "rseq4j cannot generate code for " + p.arch().displayName() + " yet";
        };
    }

    /**
     * The generator configuration for this process's settings.
     *
     * @param field               which rseq field selects the slice
     * @param delayPoint          where to inject a delay loop, 0 for none (see {@link GeneratorConfig})
     * @param delayLoops          iterations of the delay loop
     * @param abortCounterAddress address of the abort counter, or 0 for none
     * @return a configuration with this process's stride, attempt budget and slice count
     */
    public GeneratorConfig config(IndexField field, int delayPoint, long delayLoops, long abortCounterAddress) {
        return new GeneratorConfig(field, SliceLayout.STRIDE_SHIFT, settings.maxAttempts(), delayPoint, delayLoops,
                abortCounterAddress, platform.sliceCount());
    }

    /**
     * Generates a separate set of operations with an injected delay loop (for the stress
     * harness), counting aborts in this process's counter.
     *
     * @param field      which rseq field selects the slice
     * @param delayPoint where to inject the delay loop, 1 to 3 (see {@link GeneratorConfig})
     * @param delayLoops iterations of the delay loop
     * @return the operations, in code installed for the life of the process
     * @throws IllegalStateException in portable mode
     */
    public OperationSet generateWithDelay(IndexField field, int delayPoint, long delayLoops) {
        if (!rseqMode) {
            throw new IllegalStateException("delay loops exist only in rseq mode: " + modeReason);
        }
        return OperationSet.generate(backend.orElseThrow(), location, config(field, delayPoint, delayLoops, abortCounter));
    }

    /**
     * What the memory and structures layers are built with: this process's operations,
     * fences, statistics and registrations.
     *
     * @return the process's context
     */
    public RuntimeContext context() {
        return context;
    }

    /**
     * The facts detected about this process and machine.
     *
     * @return the platform the runtime was built for
     */
    public Platform platform() {
        return platform;
    }

    /**
     * The validated system properties.
     *
     * @return the settings the runtime was built with
     */
    public Settings settings() {
        return settings;
    }

    /**
     * Whether rseq4j generates code for this machine's architecture.
     *
     * @return {@code true} when a back end exists for the architecture, whatever the mode
     */
    public boolean hasCodeGenerator() {
        return backend.isPresent();
    }

    /**
     * Whether operations run as rseq critical sections.
     *
     * @return {@code true} in rseq mode, {@code false} in portable mode
     */
    public boolean rseqMode() {
        return rseqMode;
    }

    /**
     * In words, why rseq or portable mode.
     *
     * @return a sentence for logs and {@code doctor}
     */
    public String modeReason() {
        return modeReason;
    }

    /**
     * How threads get their rseq areas in this process.
     *
     * @return glibc's registration, rseq4j's own, or none (portable mode)
     */
    public RegistrationStrategy strategy() {
        return strategy;
    }

    /**
     * The per-thread registration bookkeeping.
     *
     * @return the registrations of this process's threads
     */
    public ThreadRegistrations registrations() {
        return registrations;
    }

    /**
     * The area readers, or null in portable mode.
     *
     * @return the generated readers of the calling thread's rseq area, or null
     */
    public AreaReaders readers() {
        return readers;
    }

    /**
     * The cross-CPU fences the stop protocol uses.
     *
     * @return this process's fences
     */
    public Fences fences() {
        return fences;
    }

    /**
     * Counts of operations that completed off the rseq fast path.
     *
     * @return this process's fallback counters
     */
    public FallbackStats stats() {
        return stats;
    }

    /**
     * How many times a critical section may start before its operation falls back.
     *
     * @return the attempt budget from the settings
     */
    public int maxAttempts() {
        return settings.maxAttempts();
    }

    /**
     * Operations for an index field, or null in portable mode (or mm_cid unsupported).
     *
     * @param field which rseq field selects the slice
     * @return the generated operations for that field, or null
     */
    public OperationSet operations(IndexField field) {
        return field == IndexField.CPU_ID ? cpuIdOps : mmCidOps;
    }

    /**
     * Aborts counted by generated code so far.
     *
     * @return the number of critical-section aborts in this process, 0 in portable mode
     */
    public long aborts() {
        if (abortCounter == 0) {
            return 0;
        }
        return MemorySegment.ofAddress(abortCounter).reinterpret(8).get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /**
     * Whether the kernel has the rseq system call.
     *
     * @return {@code true} when the probe answered EINVAL (the call exists)
     */
    public boolean kernelRseq() {
        return platform.probe() == KernelRseq.Probe.PRESENT;
    }
}
