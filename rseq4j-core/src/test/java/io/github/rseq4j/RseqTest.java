package io.github.rseq4j;

import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.os.CpuSets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link Rseq#status()}: the mode each surefire execution asked for, and what this machine
 * should report. Prints the status once, so every execution's log says which mode it ran.
 *
 * <p>System properties set by the executions (rseq4j-core/pom.xml):
 * {@code rseq4j.test.execution} (name), {@code rseq4j.test.expectMode} ({@code portable}),
 * {@code rseq4j.test.expectRegistration} ({@code own}). Without them the expectations are
 * derived from the platform: rseq where the kernel has it and rseq4j generates code for
 * the architecture; glibc's registration where glibc exports a non-zero {@code __rseq_size}.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RseqTest {
    static final String EXECUTION = System.getProperty("rseq4j.test.execution", "(none: not run by the rseq4j surefire executions)");
    static final String EXPECT_MODE = System.getProperty("rseq4j.test.expectMode");
    static final String EXPECT_REGISTRATION = System.getProperty("rseq4j.test.expectRegistration");

    @BeforeAll
    static void printMode() {
        RseqStatus s = Rseq.status();
        System.out.println("==== rseq4j test execution '" + EXECUTION + "': mode=" + s.mode()
                + ", registration strategy=" + s.registrationStrategy() + ", fence=" + s.fence()
                + (System.getenv("GLIBC_TUNABLES") == null ? "" : ", GLIBC_TUNABLES=" + System.getenv("GLIBC_TUNABLES")));
        System.out.println("==== Rseq.status() = " + s);
    }

    /** Whether rseq mode is possible on this machine at all (kernel rseq, a code generator). */
    static boolean platformCanDoRseq() {
        Platform p = Platform.get();
        return p.linux() && p.probe() == io.github.rseq4j.internal.os.KernelRseq.Probe.PRESENT
                && io.github.rseq4j.internal.arch.Backends.forArch(p.arch()).isPresent();
    }

    /** The status a fresh platform thread sees (the test thread may have been registered by other tests). */
    static RseqStatus statusOnFreshThread() throws InterruptedException {
        AtomicReference<RseqStatus> ref = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> ref.set(Rseq.status()));
        t.join();
        return Objects.requireNonNull(ref.get());
    }

    @Test
    void theExecutionRunsInTheModeItAskedFor() {
        RseqStatus s = Rseq.status();
        assertEquals(s.rseqMode(), Rseq.isRseqMode());
        assertEquals(s.rseqMode(), s.mode() == RseqStatus.Mode.RSEQ);
        if ("portable".equals(EXPECT_MODE)) {
            assertEquals(RseqStatus.Mode.PORTABLE, s.mode(), s.toString());
            assertTrue(s.modeReason().contains("forced"), "reason should say the mode was forced: " + s.modeReason());
            assertEquals(RegistrationKind.NONE, s.registrationStrategy());
            assertEquals(RseqStatus.FenceKind.NONE, s.fence());
            assertFalse(Rseq.isRseqMode());
            return;
        }
        if (!platformCanDoRseq()) {
            assertEquals(RseqStatus.Mode.PORTABLE, s.mode(), "no rseq on this platform: " + s);
            assumeTrue(false, "rseq is not available here (" + s.modeReason() + "): only the portable mode could be checked");
        }
        assertEquals(RseqStatus.Mode.RSEQ, s.mode(), s.toString());
        RegistrationKind expected = EXPECT_REGISTRATION != null
                ? RegistrationKind.valueOf(EXPECT_REGISTRATION.toUpperCase(java.util.Locale.ROOT))
                : Platform.get().glibc().registered() ? RegistrationKind.GLIBC : RegistrationKind.OWN;
        assertEquals(expected, s.registrationStrategy(), s.toString());
        if (expected == RegistrationKind.OWN) {
            assertEquals(0, s.glibc().rseqSize(), "glibc must not have registered threads: " + s);
            assertTrue(s.modeReason().contains("registers threads itself"), s.modeReason());
        } else {
            assertTrue(s.glibc().rseqSize() > 0, s.toString());
            assertTrue(s.modeReason().contains("glibc registered every thread"), s.modeReason());
        }
    }

    @Test
    void statusMatchesThisMachine() throws Exception {
        RseqStatus s = statusOnFreshThread();
        assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "Linux only");
        assertEquals("Linux", s.os());
        assertEquals(CpuSets.parseList(Files.readString(Path.of("/sys/devices/system/cpu/possible"))), s.possibleCpus());
        assertEquals(CpuSets.allowed(), s.thread().allowedCpus(), "a fresh thread inherits this thread's affinity");
        assertTrue(s.thread().allowedCpus().contains(s.thread().cpu()), "cpu " + s.thread().cpu() + " not in " + s.thread().allowedCpus());
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            assertEquals("x86_64", s.arch());
            assertTrue(s.codeGenerator());
        }
        int[] kernel = kernelVersion();
        if (atLeast(kernel, 4, 18)) {
            assertEquals(RseqStatus.KernelProbe.PRESENT, s.kernel().probe(), "Linux " + kernel[0] + "." + kernel[1] + " has rseq");
            assertTrue(s.kernel().rseq());
        }
        // Fields the kernel fills in: machine-specific, checked where the kernel is new enough.
        if (atLeast(kernel, 6, 3)) {
            assertTrue(s.kernel().featureSize() >= 28, "Linux 6.3+ reports node_id and mm_cid: feature size " + s.kernel().featureSize());
        }
        assumeTrue(s.kernel().featureSize() >= 28, "feature size " + s.kernel().featureSize() + " < 28: kernel older than this machine's");
        assertTrue(s.kernel().nodeId());
        assertTrue(s.kernel().mmCid());
        assertEquals(32, s.kernel().align());
        if (kernel[0] == 6 && kernel[1] == 18) {
            assertEquals(28, s.kernel().featureSize(), "Linux 6.18 has feature size 28");
        }
        assumeTrue(atLeast(kernel, 5, 10), "membarrier RSEQ needs Linux 5.10");
        assertTrue(s.kernel().membarrierRseq(), s.toString());
        if (s.mode() == RseqStatus.Mode.PORTABLE) {
            assertEquals(RseqStatus.FenceKind.NONE, s.fence());
            assertEquals(RegistrationKind.NONE, s.registrationStrategy());
            assertEquals(s.glibc().rseqSize() > 0 ? RegistrationKind.GLIBC : RegistrationKind.NONE, s.thread().registration(),
                    "portable mode still reports glibc's registration");
            assertEquals(0, s.fallbacks().total(), "no rseq fallbacks without rseq: " + s.fallbacks());
            assertEquals(0, s.fallbacks().aborts());
        } else {
            RseqStatus.FenceKind wantFence = "affinity".equals(System.getProperty("rseq4j.fence")) ? RseqStatus.FenceKind.AFFINITY : RseqStatus.FenceKind.MEMBARRIER;
            assertEquals(wantFence, s.fence());
            if (s.registrationStrategy() == RegistrationKind.GLIBC) {
                assertEquals(RegistrationKind.GLIBC, s.thread().registration(), "glibc registers every thread");
                assertNotEquals(0, s.glibc().rseqOffset(), "the area is never at the thread pointer itself");
            } else {
                assertEquals(RegistrationKind.NONE, s.thread().registration(), "a fresh thread is not registered until it uses rseq4j");
            }
        }
    }

    @Test
    void statusAfterUseReportsTheRegistration() throws Exception {
        AtomicReference<RseqStatus> ref = new AtomicReference<>();
        AtomicReference<Integer> cpu = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            cpu.set(Rseq.currentCpu());
            ref.set(Rseq.status());
        });
        t.join();
        RseqStatus s = ref.get();
        RegistrationKind want = s.rseqMode() ? s.registrationStrategy() : (s.glibc().rseqSize() > 0 ? RegistrationKind.GLIBC : RegistrationKind.NONE);
        assertEquals(want, s.thread().registration(), s.toString());
        assertTrue(cpu.get() >= 0 && s.possibleCpus().contains(cpu.get()), "cpu " + cpu.get());
    }

    @Test
    void fallbackCountsAddUp() {
        RseqStatus.Fallbacks c = new RseqStatus.Fallbacks(1, 20, 300, 4000, 50000, 6, 7);
        assertEquals(321, c.total());
        RseqStatus.Fallbacks now = Rseq.status().fallbacks();
        assertTrue(now.notRegistered() >= 0 && now.aborted() >= 0 && now.stopped() >= 0 && now.portable() >= 0
                && now.aborts() >= 0, now.toString());
        assertEquals(now.notRegistered() + now.aborted() + now.stopped(), now.total());
    }

    @Test
    void statusListsAreImmutable() {
        RseqStatus s = Rseq.status();
        List<Integer> possible = s.possibleCpus();
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> possible.add(1));
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> s.thread().allowedCpus().clear());
    }

    @Test
    void resultCodes() {
        assertEquals(-1, RseqResult.COMPARE_FAILED);
        assertEquals(-2, RseqResult.ABORTED);
        assertEquals(-3, RseqResult.STOPPED);
        assertEquals(-4, RseqResult.NOT_REGISTERED);
        assertTrue(RseqResult.isSuccess(0));
        assertTrue(RseqResult.isSuccess(7));
        assertFalse(RseqResult.isSuccess(-1));
        assertEquals("success(3)", RseqResult.describe(3));
        assertEquals("compare-failed", RseqResult.describe(-1));
        assertEquals("aborted", RseqResult.describe(-2));
        assertEquals("stopped", RseqResult.describe(-3));
        assertEquals("not-registered", RseqResult.describe(-4));
        assertEquals("unknown(-9)", RseqResult.describe(-9));
    }

    @Test
    void runtimeStateMatchesStatus() {
        RseqStatus s = Rseq.status();
        assertEquals(RegistrationKind.valueOf(JitConstants.RUNTIME.strategy().name()), s.registrationStrategy());
        assertEquals(RseqStatus.FenceKind.valueOf(JitConstants.RUNTIME.fences().kind().name()), s.fence());
        assertEquals(JitConstants.RSEQ, s.rseqMode());
        assertEquals(JitConstants.RSEQ, JitConstants.CPU_ID != null);
    }

    /** major, minor of os.version ("6.18.44-..." gives 6, 18); 0, 0 when unreadable. */
    static int[] kernelVersion() {
        String v = System.getProperty("os.version", "");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(v);
        return m.find() ? new int[]{Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : new int[]{0, 0};
    }

    static boolean atLeast(int[] v, int major, int minor) {
        return v[0] > major || (v[0] == major && v[1] >= minor);
    }

    /** Highest online NUMA node, from /sys, or -1 when unknown. */
    static int maxNumaNode() {
        try {
            List<Integer> nodes = CpuSets.parseList(Files.readString(Path.of("/sys/devices/system/node/online")));
            return nodes.isEmpty() ? -1 : nodes.getLast();
        } catch (IOException | IllegalArgumentException e) {
            return -1;
        }
    }
}
