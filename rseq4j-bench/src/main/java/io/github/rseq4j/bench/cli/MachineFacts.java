package io.github.rseq4j.bench.cli;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;

import java.util.Locale;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the bench knows about the machine it ran on: CPU, OS and kernel, JDK, rseq4j's
 * mode, and the fallback counters. <b>The only class of the bench that reads
 * {@link RseqStatus}</b> ({@link Rseq#status()}): everything else gets these immutable
 * facts, so a change to the status record is adapted here alone.
 *
 * @param cpuModel            /proc/cpuinfo's model name, or os.arch
 * @param availableProcessors CPUs this JVM may use
 * @param possibleCpus        CPUs the kernel may bring online
 * @param slices              per-CPU slices of rseq4j's memory: highest possible CPU + 1
 * @param os                  os.name
 * @param kernel              os.version
 * @param arch                the architecture as rseq4j names it
 * @param java                Java version, VM and vendor
 * @param rseq4jVersion       this tool's version
 * @param mode                rseq or portable
 * @param modeReason          why
 * @param registration        the registration strategy
 * @param fence               the fence rseq4j uses
 * @param fallbacks           the fallback counters when the facts were taken
 */
public record MachineFacts(String cpuModel, int availableProcessors, int possibleCpus, int slices, String os,
                           String kernel, String arch, String java, String rseq4jVersion, String mode,
                           String modeReason, String registration, String fence, Fallbacks fallbacks) {

    /**
     * rseq4j's fallback counters (operations that did not take the rseq path).
     *
     * @param notRegistered operations of threads without an rseq registration
     * @param aborted       operations that fell back after too many aborts
     * @param stopped       operations on stopped slices
     * @param portable      operations in portable mode (every one)
     * @param aborts        aborts that were retried
     */
    public record Fallbacks(long notRegistered, long aborted, long stopped, long portable, long aborts) {

        /** Operations that took a fallback path, of any kind. */
        public long operations() {
            return notRegistered + aborted + stopped + portable;
        }
    }

    /** The facts now. */
    public static MachineFacts probe(String rseq4jVersion) {
        RseqStatus st = Rseq.status();
        int slices = 1 + st.possibleCpus().stream().mapToInt(Integer::intValue).max().orElse(0);
        return new MachineFacts(readCpuModel(), Runtime.getRuntime().availableProcessors(), st.possibleCpus().size(),
                slices, System.getProperty("os.name"), System.getProperty("os.version"), st.arch(),
                Runtime.version() + " (" + System.getProperty("java.vm.name", "?") + ", "
                        + System.getProperty("java.vendor", "?") + ")",
                rseq4jVersion, word(st.mode()), st.modeReason(), word(st.registrationStrategy()), word(st.fence()),
                fallbacks(st.fallbacks()));
    }

    /** rseq4j's mode now (rseq or portable). */
    public static String currentMode() {
        return word(Rseq.status().mode());
    }

    /** An enum constant as the lower-case word reports print. */
    private static String word(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** The fallback counters now (cheap enough to read around every phase of a measurement). */
    public static Fallbacks currentFallbacks() {
        return fallbacks(Rseq.status().fallbacks());
    }

    private static Fallbacks fallbacks(RseqStatus.Fallbacks f) {
        return new Fallbacks(f.notRegistered(), f.aborted(), f.stopped(), f.portable(), f.aborts());
    }

    /** The first three fields of /proc/loadavg (1, 5 and 15 minutes), or "?". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "?";
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** /proc/cpuinfo's first model name, or os.arch where there is none. */
    static String readCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    int c = line.indexOf(':');
                    if (c > 0) {
                        return line.substring(c + 1).trim();
                    }
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux, or no access
        }
        return System.getProperty("os.arch");
    }
}
