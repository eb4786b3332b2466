package io.github.rseq4j.cli;

import io.github.rseq4j.Registration;
import io.github.rseq4j.RegistrationKind;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code rseq4j doctor}: what rseq4j finds on this machine, and which mode it runs in. */
@Command(name = "doctor",
        mixinStandardHelpOptions = true,
        description = {
                "Check rseq support on this machine: rseq or portable mode, and why.",
                "",
                "Reports the kernel's rseq support, who registered the thread's rseq area, the fence,",
                "the CPUs, and whether per-CPU operations run as rseq critical sections",
                "(mode: rseq) or on atomics (mode: portable). Exit status 0 in both modes.",
        })
public final class DoctorCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON object instead of the report.")
    boolean json;

    @Override
    public Integer call() {
        RseqStatus status;
        // Report this thread as a user of rseq4j sees it: registered the way rseq4j would
        // register it (a no-op count under glibc; rseq4j's own registration otherwise).
        try (Registration ignored = Rseq.register()) {
            status = Rseq.status();
        } catch (RuntimeException | LinkageError e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            PrintWriter err = spec.commandLine().getErr();
            err.println("rseq4j doctor: could not read the rseq status: " + root);
            e.printStackTrace(err);
            err.flush();
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? toJson(status).toPrettyString() + "\n" : report(status));
        out.flush();
        return 0;
    }

    // ---- JSON ----------------------------------------------------------------------------

    /** The status as a JSON object; key names are part of the CLI's interface. */
    static Json.Obj toJson(RseqStatus s) {
        RseqStatus.Fallbacks f = s.fallbacks();
        RseqStatus.Kernel k = s.kernel();
        RseqStatus.Glibc g = s.glibc();
        RseqStatus.ThreadState t = s.thread();
        return Json.object()
                .put("mode", word(s.mode()))
                .put("mode_reason", s.modeReason())
                .put("rseq4j_version", Main.version())
                .put("java_version", Runtime.version().toString())
                .put("os", s.os())
                .put("arch", s.arch())
                .put("code_generator", s.codeGenerator())
                .put("kernel_rseq", k.rseq())
                .put("kernel_probe", word(k.probe()))
                .put("feature_size", k.featureSize())
                .put("rseq_align", k.align())
                .put("node_id", k.nodeId())
                .put("mm_cid", k.mmCid())
                .put("membarrier_rseq", k.membarrierRseq())
                .put("fence", word(s.fence()))
                .put("glibc_rseq", g.exportsRseq())
                .put("glibc_rseq_size", g.rseqSize())
                .put("glibc_rseq_offset", g.rseqOffset())
                .put("registration", word(t.registration()))
                .put("registration_strategy", word(s.registrationStrategy()))
                .put("registration_refusals", s.refusals().count())
                .put("last_refusal_errno", s.refusals().lastErrno())
                .put("possible_cpus", s.possibleCpus().size())
                .put("possible_cpu_list", s.possibleCpus())
                .put("allowed_cpus", t.allowedCpus())
                .put("cpu", t.cpu())
                .put("setting_problems", s.settingProblems())
                .put("fallbacks", Json.object()
                        .put("not_registered", f.notRegistered())
                        .put("aborted", f.aborted())
                        .put("stopped", f.stopped())
                        .put("portable", f.portable())
                        .put("aborts", f.aborts())
                        .put("attempt_budget_cuts", f.budgetCuts())
                        .put("attempt_budget_restores", f.budgetRestores()));
    }

    /** An enum constant as the lower-case word the CLI prints. */
    static String word(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    // ---- text report ---------------------------------------------------------------------

    private static final int LABEL_WIDTH = 22;

    static String report(RseqStatus s) {
        StringBuilder sb = new StringBuilder();
        String dash = Main.dash();
        sb.append("rseq4j doctor ").append(dash).append(" rseq4j ").append(Main.version())
                .append(", Java ").append(Main.javaVersion()).append('\n');

        section(sb, "Platform");
        row(sb, "os", s.os());
        row(sb, "arch", s.arch());
        row(sb, "code generator", s.codeGenerator()
                ? "yes (critical sections are generated for " + s.arch() + ")"
                : "no (none for " + s.arch() + " yet)");

        section(sb, "Kernel");
        RseqStatus.Kernel k = s.kernel();
        boolean asked = k.probe() != RseqStatus.KernelProbe.NOT_PROBED;
        String notAsked = "unknown (not asked: this JVM gives rseq4j no native access)";
        row(sb, "rseq system call", asked ? yesNo(k.rseq()) + " (probe: " + word(k.probe()) + ")" : notAsked);
        row(sb, "feature size", k.featureSize() + " bytes (AT_RSEQ_FEATURE_SIZE)");
        row(sb, "area alignment", k.align() + " bytes (AT_RSEQ_ALIGN)");
        row(sb, "node_id", yesNo(k.nodeId()));
        row(sb, "mm_cid", yesNo(k.mmCid()));
        row(sb, "membarrier RSEQ", yesNo(k.membarrierRseq())
                + (k.membarrierRseq() ? " (MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)" : ""));
        row(sb, "fence", describeFence(s.fence()));

        section(sb, "Registration");
        RseqStatus.Glibc g = s.glibc();
        row(sb, "glibc rseq symbols", !asked ? notAsked : !g.exportsRseq()
                ? "no (needs glibc 2.35+)"
                : g.rseqSize() == 0
                ? "yes, but glibc did not register (__rseq_size=0)"
                : "yes (__rseq_size=" + g.rseqSize() + ", __rseq_offset=" + g.rseqOffset() + ")");
        row(sb, "this thread", describeRegistration(s.thread().registration()));
        row(sb, "strategy", describeStrategy(s.registrationStrategy()));
        row(sb, "refused threads", s.refusals().count() == 0 ? "0"
                : s.refusals().count() + " (last: " + errnoName(s.refusals().lastErrno())
                  + "; those threads use the fallback path)");

        section(sb, "CPUs");
        if (asked) {
            row(sb, "possible", s.possibleCpus().size() + " (" + CpuRanges.format(s.possibleCpus()) + ")");
            row(sb, "allowed", s.thread().allowedCpus().size() + " (" + CpuRanges.format(s.thread().allowedCpus()) + ")");
        } else {
            row(sb, "possible", notAsked + "; the JVM reports " + Runtime.getRuntime().availableProcessors()
                    + " processors");
        }
        int cpu = s.thread().cpu();
        row(sb, "ran on", cpu >= 0 ? "cpu " + cpu : "unknown (" + cpu + ")");

        if (!s.settingProblems().isEmpty()) {
            section(sb, "Settings");
            for (String problem : s.settingProblems()) {
                row(sb, "ignored", problem);
            }
        }

        RseqStatus.Fallbacks f = s.fallbacks();
        section(sb, "Fallbacks (operations so far in this process)");
        row(sb, "not registered", Long.toString(f.notRegistered()));
        row(sb, "aborted", Long.toString(f.aborted()));
        row(sb, "stopped", Long.toString(f.stopped()));
        row(sb, "portable", Long.toString(f.portable()));
        row(sb, "aborts (retried)", Long.toString(f.aborts()));
        row(sb, "budget cuts", f.budgetCuts() + " (threads cut to one attempt per operation after exhausting "
                + "rseq4j.maxAttempts; " + f.budgetRestores() + " restored)");

        sb.append('\n');
        if (s.rseqMode()) {
            sb.append("mode: rseq\n");
        } else {
            sb.append("mode: portable ").append(dash).append(' ').append(s.modeReason()).append('\n');
        }
        List<String> hints = hints(s);
        if (!hints.isEmpty()) {
            sb.append(s.rseqMode() ? "notes:\n" : "what you can do:\n");
            for (String h : hints) {
                sb.append("  * ").append(h).append('\n');
            }
        }
        return sb.toString();
    }

    /** Advice for portable mode, and notes on degraded rseq mode. */
    static List<String> hints(RseqStatus s) {
        List<String> h = new ArrayList<>();
        boolean linux = s.os() != null && s.os().toLowerCase(java.util.Locale.ROOT).contains("linux");
        if (!s.rseqMode()) {
            boolean portableAskedFor = s.portableRequested();
            if (portableAskedFor) {
                h.add("portable mode was asked for (" + s.modeReason() + "): leave that setting out (or set it "
                        + "to auto) to get rseq mode where the machine supports it.");
            } else if (!linux) {
                h.add("rseq is a Linux feature: on " + s.os() + " rseq4j always runs on atomics "
                        + "(correct, without the per-CPU speed-up).");
            } else if (!s.codeGenerator()) {
                h.add("rseq4j generates critical sections for x86_64 and aarch64 only so far; on " + s.arch()
                        + " it runs on atomics.");
            } else if (s.kernel().probe() == RseqStatus.KernelProbe.NOT_PROBED) {
                h.add(s.modeReason() + ". Portable mode needs no native access, but rseq mode does.");
            } else if (s.kernel().probe() == RseqStatus.KernelProbe.ABSENT) {
                h.add("the kernel has no rseq system call: run on Linux 4.18 or newer.");
            } else if (s.kernel().probe() == RseqStatus.KernelProbe.DENIED) {
                h.add("rseq(2) is blocked (EPERM), usually by a seccomp filter: in a container, use a "
                        + "runtime/profile that allows rseq (Docker 20.10+ does by default).");
            } else if (s.thread().registration() == RegistrationKind.NONE) {
                h.add("the kernel has rseq but rseq4j has no usable registration for this thread "
                        + "(see the reason above).");
            }
            if (!portableAskedFor) {
                h.add("portable mode is correct, only slower; if you think rseq should work here, "
                        + "include `rseq4j doctor --json` in your report.");
            }
        } else {
            if (s.affinityFenceRequested() && s.kernel().membarrierRseq()) {
                h.add("the affinity fence was asked for with -Drseq4j.fence=affinity although membarrier "
                        + "RSEQ is available; leave it out for the faster fence.");
            } else if (!s.kernel().membarrierRseq()) {
                h.add("membarrier RSEQ is unavailable (needs Linux 5.10+): fences use '" + word(s.fence())
                        + "', so operations that fence other CPUs are slower.");
            }
            if (s.refusals().count() > 0) {
                h.add("the kernel refused to register " + s.refusals().count() + " thread(s) for rseq4j ("
                        + errnoName(s.refusals().lastErrno()) + "): something else in the process registered "
                        + "them first; those threads run on the fallback path.");
            }
            if (s.fallbacks().total() > 0) {
                h.add(s.fallbacks().total() + " operations took a fallback path in this process.");
            }
        }
        return h;
    }

    private static String describeFence(RseqStatus.FenceKind fence) {
        return switch (fence) {
            case MEMBARRIER -> "membarrier (restarts critical sections on all CPUs)";
            case AFFINITY -> "affinity (the fence for kernels without membarrier RSEQ)";
            case NONE -> "none";
        };
    }

    private static String describeRegistration(RegistrationKind registration) {
        return switch (registration) {
            case GLIBC -> "registered by glibc";
            case OWN -> "registered by rseq4j";
            case NONE -> "not registered";
        };
    }

    private static String describeStrategy(RegistrationKind strategy) {
        return switch (strategy) {
            case GLIBC -> "glibc (use glibc's area of each thread)";
            case OWN -> "own (rseq4j registers an area per thread)";
            case NONE -> "none";
        };
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 0 -> "none";
            case 1 -> "EPERM";
            case 16 -> "EBUSY";
            case 22 -> "EINVAL";
            case 38 -> "ENOSYS";
            default -> "errno " + errno;
        };
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static void section(StringBuilder sb, String title) {
        sb.append('\n').append(title).append('\n');
    }

    private static void row(StringBuilder sb, String label, String value) {
        sb.append("  ").append(label);
        sb.repeat(" ", Math.max(1, LABEL_WIDTH - label.length()));
        sb.append(value == null ? "?" : value).append('\n');
    }
}
