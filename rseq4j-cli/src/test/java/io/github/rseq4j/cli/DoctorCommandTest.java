package io.github.rseq4j.cli;

import io.github.rseq4j.RegistrationKind;
import io.github.rseq4j.RseqStatus;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {

    /** Runs the CLI in-process; returns {exit code, stdout, stderr}. HelpTest uses it too. */
    static Object[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new Object[] {rc, out.toString(), err.toString()};
    }

    @Test
    void jsonHasTheDocumentedKeysAndTypes() {
        Object[] r = run("doctor", "--json");
        assertEquals(0, r[0], () -> "stderr: " + r[2]);
        String text = (String) r[1];
        assertTrue(text.startsWith("{") && text.endsWith("}\n"), text);
        Map<?, ?> m = assertInstanceOf(Map.class, MiniJson.parse(text), text);

        for (String k : List.of("kernel_rseq", "node_id", "mm_cid", "membarrier_rseq", "code_generator",
                "glibc_rseq")) {
            assertInstanceOf(Boolean.class, m.get(k), k);
        }
        for (String k : List.of("feature_size", "rseq_align", "possible_cpus", "glibc_rseq_size",
                "glibc_rseq_offset", "cpu", "registration_refusals", "last_refusal_errno")) {
            assertInstanceOf(Long.class, m.get(k), k);
        }
        for (String k : List.of("kernel_probe", "registration", "registration_strategy", "fence", "arch",
                "os", "mode", "mode_reason", "rseq4j_version", "java_version")) {
            assertInstanceOf(String.class, m.get(k), k);
        }
        assertTrue(Set.of("present", "absent", "denied", "unknown", "not_probed").contains(m.get("kernel_probe")), text);
        assertTrue(Set.of("glibc", "own", "none").contains(m.get("registration")), text);
        assertTrue(Set.of("glibc", "own", "none").contains(m.get("registration_strategy")), text);
        assertTrue(Set.of("membarrier", "affinity", "none").contains(m.get("fence")), text);
        assertTrue(Set.of("rseq", "portable").contains(m.get("mode")), text);

        List<?> possible = assertInstanceOf(List.class, m.get("possible_cpu_list"));
        List<?> allowed = assertInstanceOf(List.class, m.get("allowed_cpus"));
        assertEquals((long) possible.size(), m.get("possible_cpus"));
        assertNotEquals(0, possible.size());
        for (Object cpu : possible) {
            assertInstanceOf(Long.class, cpu);
        }
        for (Object cpu : allowed) {
            assertTrue(possible.contains(cpu), () -> "allowed cpu " + cpu + " not possible: " + text);
        }

        Map<?, ?> fallbacks = assertInstanceOf(Map.class, m.get("fallbacks"));
        for (String k : List.of("not_registered", "aborted", "stopped", "portable", "aborts")) {
            long v = assertInstanceOf(Long.class, fallbacks.get(k), k);
            assertTrue(v >= 0, k);
        }

        if ("rseq".equals(m.get("mode"))) {
            assertEquals(Boolean.TRUE, m.get("kernel_rseq"), text);
            assertEquals(Boolean.TRUE, m.get("code_generator"), text);
            assertNotEquals("none", m.get("registration"), text);
            assertTrue(possible.contains(m.get("cpu")), text);
        }
    }

    @Test
    void reportHasAllGroupsAndAVerdict() {
        Object[] r = run("doctor");
        assertEquals(0, r[0], () -> "stderr: " + r[2]);
        String text = (String) r[1];
        for (String group : List.of("\nPlatform\n", "\nKernel\n", "\nRegistration\n", "\nCPUs\n", "\nFallbacks")) {
            assertTrue(text.contains(group), () -> group.strip() + " missing in:\n" + text);
        }
        assertTrue(text.lines().anyMatch(l -> l.equals("mode: rseq") || l.startsWith("mode: portable ")), text);
    }

    @Test
    void topLevelHelpListsDoctor() {
        Object[] r = run("--help");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("doctor"), (String) r[1]);
    }

    @Test
    void versionNamesTheBuild() {
        Object[] r = run("--version");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).startsWith("rseq4j "), (String) r[1]);
        // version.properties is filtered by Maven, so the version is known
        assertTrue(!((String) r[1]).startsWith("rseq4j unknown"), (String) r[1]);
    }

    @Test
    void missingSubcommandIsAUsageError() {
        Object[] r = run();
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("Usage"), (String) r[2]);
    }

    /** A status made up for a report (RseqStatus is an interface: rseq4j's own is not public). */
    private record SyntheticStatus(Mode mode, String modeReason, String os, String arch, boolean codeGenerator,
                                   Kernel kernel, Glibc glibc, RegistrationKind registrationStrategy,
                                   FenceKind fence, List<Integer> possibleCpus, ThreadState thread,
                                   Fallbacks fallbacks, Refusals refusals, List<String> settingProblems,
                                   boolean portableRequested)
            implements RseqStatus {
    }

    /** A synthetic portable-mode status for {@code os}/{@code arch} and a kernel probe answer. */
    private static RseqStatus fallbackStatus(String os, String arch, boolean generator, String probe) {
        return fallbackStatus(os, arch, generator, probe, false);
    }

    private static RseqStatus fallbackStatus(String os, String arch, boolean generator, String probe,
                                             boolean portableRequested) {
        RseqStatus.KernelProbe p = RseqStatus.KernelProbe.valueOf(probe.toUpperCase(java.util.Locale.ROOT));
        boolean present = p == RseqStatus.KernelProbe.PRESENT;
        return new SyntheticStatus(RseqStatus.Mode.PORTABLE, "because \"reasons\"", os, arch, generator,
                new RseqStatus.Kernel(present, p, present ? 20 : 0, 32, false, false, false),
                new RseqStatus.Glibc(false, 0, 0),
                RegistrationKind.NONE, RseqStatus.FenceKind.NONE, List.of(0, 1, 2, 3, 6),
                new RseqStatus.ThreadState(RegistrationKind.NONE, 1, List.of(0, 1)),
                new RseqStatus.Fallbacks(0, 0, 0, 12, 0, 0, 0),
                new RseqStatus.Refusals(0, 0),
                List.of(), portableRequested);
    }

    @Test
    void portableModeAskedForIsToldFromTheStatusNotTheProperty() {
        // the status says the settings forced portable mode; this JVM's own rseq4j.mode is not read
        String asked = DoctorCommand.report(fallbackStatus("Linux", "x86_64", true, "present", true));
        assertTrue(asked.contains("portable mode was asked for (because \"reasons\"): leave that setting out"), asked);
        assertTrue(!asked.contains("portable mode is correct, only slower"), asked);

        String chosen = DoctorCommand.report(fallbackStatus("Linux", "x86_64", true, "denied", false));
        assertTrue(!chosen.contains("was asked for"), chosen);
        assertTrue(chosen.contains("portable mode is correct, only slower"), chosen);
    }

    @Test
    void fallbackReportsExplainWhatToDo() {
        String denied = DoctorCommand.report(fallbackStatus("Linux", "x86_64", true, "denied"));
        assertTrue(denied.contains("\nmode: portable " + Main.dash() + " because \"reasons\"\n"), denied);
        assertTrue(denied.contains("seccomp"), denied);
        assertTrue(denied.contains("  possible              5 (0-3,6)\n"), denied);

        assertTrue(DoctorCommand.report(fallbackStatus("Linux", "x86_64", true, "absent")).contains("4.18"));
        assertTrue(DoctorCommand.report(fallbackStatus("Linux", "riscv64", false, "present"))
                .contains("x86_64 and aarch64 only"));
        assertTrue(DoctorCommand.report(fallbackStatus("Mac OS X", "aarch64", false, "absent"))
                .contains("Linux feature"));

        String noNativeAccess = DoctorCommand.report(fallbackStatus("Linux", "x86_64", true, "not_probed"));
        assertTrue(noNativeAccess.contains("  rseq system call      unknown (not asked: this JVM gives rseq4j no native access)\n"),
                noNativeAccess);
        assertTrue(noNativeAccess.contains("Portable mode needs no native access, but rseq mode does."), noNativeAccess);
        assertTrue(!noNativeAccess.contains("rseq system call      no"), "never blames the kernel\n" + noNativeAccess);
    }

    @Test
    void jsonOfASyntheticStatus() {
        Map<?, ?> m = (Map<?, ?>) MiniJson.parse(
                DoctorCommand.toJson(fallbackStatus("Linux", "x86_64", true, "denied")).toPrettyString());
        assertEquals("portable", m.get("mode"));
        assertEquals("because \"reasons\"", m.get("mode_reason"));
        assertEquals(5L, m.get("possible_cpus"));
        assertEquals(List.of(0L, 1L, 2L, 3L, 6L), m.get("possible_cpu_list"));
        assertEquals(List.of(0L, 1L), m.get("allowed_cpus"));
        assertEquals(12L, ((Map<?, ?>) m.get("fallbacks")).get("portable"));
    }
}
