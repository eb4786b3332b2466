package io.github.rseq4j;

import io.github.rseq4j.internal.codegen.AreaReaders;
import io.github.rseq4j.internal.memory.AbortBudget;
import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.internal.os.Fences;
import io.github.rseq4j.internal.os.KernelRseq;
import io.github.rseq4j.internal.os.Libc;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.registration.RegistrationStrategy;
import io.github.rseq4j.internal.registration.ThreadRegistrations;
import io.github.rseq4j.internal.runtime.FallbackStats;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.runtime.Settings;

import java.util.List;

/**
 * Entry point: what this machine supports ({@link #status()}), where the calling thread
 * runs ({@link #currentCpu()}, {@link #currentNumaNode()}, {@link #currentConcurrencyId()})
 * and counted registration ({@link #register()}).
 *
 * <p><b>Where am I running.</b> The answers are read from the thread's rseq area inside a
 * single native call, so they describe the OS thread that ran that call: for a virtual
 * thread, the carrier it was mounted on during the call. Like {@code sched_getcpu()}, the
 * answer may be stale as soon as it is returned; per-CPU operations never rely on it (they
 * read the CPU inside their critical section). When the thread has no rseq registration
 * (portable mode, or the kernel refused), {@link #currentCpu()} falls back to
 * {@code sched_getcpu()}.
 */
public final class Rseq {
    private Rseq() {}

    /**
     * A snapshot of what rseq4j detected and chose, for the calling thread. Observing only:
     * it never registers the thread (an unregistered thread is reported as such).
     *
     * @return the process's mode and the reason for it, what the kernel and the C library
     *         offer, fallback counts so far, and the calling thread's registration and CPU
     */
    public static RseqStatus status() {
        RseqRuntime rt = JitConstants.RUNTIME;
        Platform p = rt.platform();
        boolean native_ = p.linux() && Libc.AVAILABLE;
        List<Integer> allowed = native_ ? CpuSets.allowed() : List.of();
        // Observe, never register: currentCpu() would register an unregistered thread lazily.
        RegistrationKind registration = kind(rt.registrations().current());
        int cpu = native_ ? observeCpu() : -1;
        FallbackStats st = rt.stats();
        return new StatusSnapshot(
                rt.rseqMode() ? RseqStatus.Mode.RSEQ : RseqStatus.Mode.PORTABLE,
                rt.modeReason(),
                System.getProperty("os.name", "unknown"),
                p.arch() == io.github.rseq4j.internal.abi.Arch.OTHER ? System.getProperty("os.arch") : p.arch().displayName(),
                rt.hasCodeGenerator(),
                new RseqStatus.Kernel(rt.kernelRseq(), probe(p.probe()), p.featureSize(),
                        p.rseqAlign(), p.nodeIdUsable(), p.mmCidUsable(), p.membarrierRseq()),
                new RseqStatus.Glibc(p.glibc().present(), p.glibc().exportedSize(), p.glibc().offset()),
                kind(rt.strategy()),
                fenceKind(rt.fences().kind()),
                p.possibleCpus(),
                new RseqStatus.ThreadState(registration, cpu, allowed),
                new RseqStatus.Fallbacks(st.notRegistered(), st.aborted(), st.stopped(), st.portable(), rt.aborts(),
                        AbortBudget.cuts(), AbortBudget.restores()),
                new RseqStatus.Refusals(rt.registrations().refusals(), rt.registrations().lastRefusalErrno()),
                rt.settings().problems(),
                rt.settings().mode() == Settings.Mode.PORTABLE,
                rt.settings().fence() == Settings.FenceChoice.AFFINITY);
    }

    // The internal enums below mirror public ones (the internal layers cannot see the public
    // API). Exhaustive switches, not valueOf(name()): a constant added on one side fails the
    // build here instead of a status call at run time.

    private static RegistrationKind kind(ThreadRegistrations.Kind k) {
        return switch (k) {
            case GLIBC -> RegistrationKind.GLIBC;
            case OWN -> RegistrationKind.OWN;
            case NONE -> RegistrationKind.NONE;
        };
    }

    private static RegistrationKind kind(RegistrationStrategy s) {
        return switch (s) {
            case GLIBC -> RegistrationKind.GLIBC;
            case OWN -> RegistrationKind.OWN;
            case NONE -> RegistrationKind.NONE;
        };
    }

    private static RseqStatus.KernelProbe probe(KernelRseq.Probe p) {
        return switch (p) {
            case PRESENT -> RseqStatus.KernelProbe.PRESENT;
            case ABSENT -> RseqStatus.KernelProbe.ABSENT;
            case DENIED -> RseqStatus.KernelProbe.DENIED;
            case UNKNOWN -> RseqStatus.KernelProbe.UNKNOWN;
            case NOT_PROBED -> RseqStatus.KernelProbe.NOT_PROBED;
        };
    }

    private static RseqStatus.FenceKind fenceKind(Fences.Kind k) {
        return switch (k) {
            case MEMBARRIER -> RseqStatus.FenceKind.MEMBARRIER;
            case AFFINITY -> RseqStatus.FenceKind.AFFINITY;
            case NONE -> RseqStatus.FenceKind.NONE;
        };
    }

    /**
     * Whether per-CPU operations run as rseq critical sections in this process.
     *
     * @return {@code true} in rseq mode, {@code false} in portable mode; fixed for
     *         the life of the process
     */
    public static boolean isRseqMode() {
        return JitConstants.RSEQ;
    }

    /**
     * The CPU the calling thread runs on, from its rseq area ({@code cpu_id}); where the
     * thread has no registration, from {@code sched_getcpu()}. Under rseq4j's own
     * registration the first call registers the thread.
     *
     * @return the number of the CPU the thread ran on during the call (it may have moved
     *         since)
     * @throws UnsupportedOperationException where the CPU cannot be read at all: no C
     *                                       library calls (not Linux, or the JVM denies
     *                                       rseq4j native access; the message says which)
     */
    public static int currentCpu() {
        if (JitConstants.RSEQ) {
            long c = readField(Field.CPU);
            if (c >= 0) {
                return (int) c;
            }
        }
        if (!Libc.AVAILABLE) {
            throw new UnsupportedOperationException("the current CPU cannot be read: " + Libc.UNAVAILABLE_REASON);
        }
        return Libc.schedGetcpu();
    }

    /**
     * The NUMA node of the CPU the calling thread runs on ({@code node_id}, Linux 6.3+).
     *
     * @return the NUMA node number of the CPU the thread ran on during the call
     * @throws UnsupportedOperationException where the kernel does not provide it or the
     *                                       thread has no rseq registration
     */
    public static int currentNumaNode() {
        requireField(JitConstants.RUNTIME.platform().nodeIdUsable(), "node_id", "6.3");
        return (int) requireRegistered(readField(Field.NODE), "node_id");
    }

    /**
     * The calling thread's memory-map concurrency id ({@code mm_cid}, Linux 6.3+): a
     * compact number below min(threads of this process, CPUs it may use).
     *
     * @return the thread's concurrency id at the moment of the call (it can change whenever
     *         the thread is scheduled)
     * @throws UnsupportedOperationException where the kernel does not provide it or the
     *                                       thread has no rseq registration
     */
    public static int currentConcurrencyId() {
        requireField(JitConstants.RUNTIME.platform().mmCidUsable(), "mm_cid", "6.3");
        return (int) requireRegistered(readField(Field.MM_CID), "mm_cid");
    }

    /**
     * Opens a counted use of the calling thread's registration, registering the thread
     * where rseq4j owns registration. Close it on the same thread.
     *
     * @return the use to close when the thread no longer needs its registration; its
     *         {@link Registration#kind()} says who registered the thread
     * @see Registration
     */
    public static Registration register() {
        RegistrationKind kind = kind(JitConstants.RUNTIME.registrations().acquire());
        return new Registration(Thread.currentThread(), kind);
    }

    private enum Field { CPU, NODE, MM_CID }

    /** The CPU from the area when the thread is registered, else sched_getcpu(); never registers. */
    private static int observeCpu() {
        if (JitConstants.RSEQ) {
            long c = JitConstants.READERS.readCpu();
            if (c >= 0) {
                return (int) c;
            }
        }
        return Libc.AVAILABLE ? Libc.schedGetcpu() : -1;
    }

    private static long readField(Field f) {
        for (int attempt = 0; attempt < 2; attempt++) {
            AreaReaders r = JitConstants.READERS;
            long v = switch (f) {
                case CPU -> r.readCpu();
                case NODE -> r.readNode();
                case MM_CID -> r.readMmCid();
            };
            if (v >= 0 || attempt == 1 || !JitConstants.RUNTIME.registrations().ensureRegistered()) {
                return v;
            }
        }
        return -1;
    }

    private static void requireField(boolean usable, String field, String kernel) {
        if (!JitConstants.RSEQ) {
            throw new UnsupportedOperationException(field + " is read from the rseq area, and rseq4j is in portable mode: "
                    + JitConstants.RUNTIME.modeReason());
        }
        if (!usable) {
            throw new UnsupportedOperationException(field + " needs Linux " + kernel
                    + "+ (this kernel's rseq feature size is " + JitConstants.RUNTIME.platform().featureSize() + ")");
        }
    }

    private static long requireRegistered(long v, String field) {
        if (v < 0) {
            throw new UnsupportedOperationException(field + " is unavailable: this thread has no rseq registration"
                    + " (the kernel refused it; see Rseq.status())");
        }
        return v;
    }
}
