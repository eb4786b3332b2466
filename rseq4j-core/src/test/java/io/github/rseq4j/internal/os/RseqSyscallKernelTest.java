package io.github.rseq4j.internal.os;

import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.internal.abi.Arch;
import io.github.rseq4j.internal.abi.RseqAbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The rseq system call's error matrix (RSEQ-FACTS section 5), through rseq4j's own
 * wrapper {@link KernelRseq#rseq}, on a thread nobody registered (glibc's registration
 * off). Runs in a child JVM under {@code GLIBC_TUNABLES=glibc.pthread.rseq=0} in every
 * execution, and in-process too where glibc registered nothing (the own-registration
 * execution).
 *
 * <p>The invalid address is {@code -4096}, a kernel address that {@code access_ok}
 * rejects (EFAULT), as librseq's test uses. An unmapped user address such as
 * {@code 0x10000} is not a safe probe: the kernel checks only that the range is user
 * space, registers it, and then faults writing it on the way back to user space.
 *
 * <p>Areas come from {@link Arena#global()} and are never freed, and every registration
 * is undone before the thread ends (also when a step fails).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RseqSyscallKernelTest {

    /** One checked step: what the kernel (or the area) should say, and what it said. */
    record Step(String name, long expected, long actual) {
        boolean ok() {
            return expected == actual;
        }

        @Override
        public String toString() {
            return name + ": expected " + expected + ", got " + actual;
        }
    }

    /**
     * A flag no kernel defines. (Not 2: kernels after 6.18 may give low bits a meaning,
     * and an accepted "bad" flag would register the thread in the middle of the matrix.)
     */
    static final int BAD_FLAG = 1 << 30;

    private static void assumeRseqKernel() {
        Platform p = Platform.get();
        assumeTrue(p.linux() && p.probe() == KernelRseq.Probe.PRESENT && p.arch().rseqSyscall() > 0,
                "needs a kernel with rseq (probe: " + p.probe() + ")");
    }

    /**
     * The matrix, on the calling thread, which must have no rseq registration. Pins the
     * thread to one allowed CPU meanwhile.
     */
    static List<Step> matrix() {
        Arch arch = Platform.get().arch();
        int sig = arch.signature();
        int len = RseqAbi.MIN_AREA_SIZE;
        MemorySegment area = Arena.global().allocate(64, 32);
        MemorySegment other = Arena.global().allocate(64, 32);
        long a = area.address();
        area.set(ValueLayout.JAVA_INT, RseqAbi.CPU_ID, RseqAbi.CPU_ID_UNINITIALIZED);
        List<Step> steps = new ArrayList<>();
        List<Integer> allowed = CpuSets.allowed();
        int cpu = allowed.getLast();
        boolean registered = false;
        try {
            steps.add(new Step("pin to CPU " + cpu, 0, CpuSets.setAffinity(List.of(cpu))));
            steps.add(new Step("precondition: unregister on an unregistered thread (EINVAL)", -RseqAbi.EINVAL,
                    KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig)));
            steps.add(new Step("unknown flag bit (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a, len, BAD_FLAG, sig)));
            steps.add(new Step("misaligned area +8 (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a + 8, len, 0, sig)));
            steps.add(new Step("misaligned area +4 (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a + 4, len, 0, sig)));
            steps.add(new Step("len 31 (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a, 31, 0, sig)));
            steps.add(new Step("len 0 (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a, 0, 0, sig)));
            steps.add(new Step("kernel address -4096 (EFAULT)", -RseqAbi.EFAULT, KernelRseq.rseq(arch, -4096L, len, 0, sig)));
            steps.add(new Step("still unregistered (EINVAL on unregister)", -RseqAbi.EINVAL,
                    KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig)));

            int r = KernelRseq.rseq(arch, a, len, 0, sig);
            registered = r == 0;
            steps.add(new Step("register a 32-aligned 32-byte area", 0, r));
            if (registered) {
                steps.add(new Step("cpu_id after registration", cpu, area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID)));
                steps.add(new Step("cpu_id_start after registration", cpu,
                        area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID_START)));
                steps.add(new Step("sched_getcpu agrees", cpu, Libc.schedGetcpu()));
                steps.add(new Step("rseq_cs is 0", 0, area.get(ValueLayout.JAVA_LONG, RseqAbi.RSEQ_CS)));
                if (Platform.get().mmCidUsable()) {
                    int cid = area.get(ValueLayout.JAVA_INT, RseqAbi.MM_CID);
                    int possible = Platform.get().possibleCpus().size();
                    steps.add(new Step("mm_cid in [0, " + possible + ")", 1, cid >= 0 && cid < possible ? 1 : 0));
                }
                steps.add(new Step("identical re-registration (EBUSY)", -RseqAbi.EBUSY, KernelRseq.rseq(arch, a, len, 0, sig)));
                steps.add(new Step("another address (EINVAL)", -RseqAbi.EINVAL,
                        KernelRseq.rseq(arch, other.address(), len, 0, sig)));
                steps.add(new Step("another length (EINVAL)", -RseqAbi.EINVAL, KernelRseq.rseq(arch, a, 64, 0, sig)));
                steps.add(new Step("another signature (EPERM)", -RseqAbi.EPERM, KernelRseq.rseq(arch, a, len, 0, sig + 1)));
                steps.add(new Step("unregister, wrong signature (EPERM)", -RseqAbi.EPERM,
                        KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig + 1)));
                steps.add(new Step("unregister, wrong address (EINVAL)", -RseqAbi.EINVAL,
                        KernelRseq.rseq(arch, other.address(), len, RseqAbi.FLAG_UNREGISTER, sig)));
                steps.add(new Step("unregister, wrong length (EINVAL)", -RseqAbi.EINVAL,
                        KernelRseq.rseq(arch, a, 64, RseqAbi.FLAG_UNREGISTER, sig)));
                steps.add(new Step("unregister, extra flag bits (EINVAL)", -RseqAbi.EINVAL,
                        KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER | BAD_FLAG, sig)));
                steps.add(new Step("cpu_id still live after the refusals", cpu, area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID)));
                int u = KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig);
                registered = u != 0;
                steps.add(new Step("unregister", 0, u));
                steps.add(new Step("cpu_id after unregistration", RseqAbi.CPU_ID_UNINITIALIZED,
                        area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID)));
                steps.add(new Step("unregister twice (EINVAL)", -RseqAbi.EINVAL,
                        KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig)));
                // A thread may register again (rseq4j's register()/close() relies on it).
                int again = KernelRseq.rseq(arch, other.address(), len, 0, sig);
                steps.add(new Step("register again, another area", 0, again));
                if (again == 0) {
                    steps.add(new Step("its cpu_id", cpu, other.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID)));
                    steps.add(new Step("unregister it", 0,
                            KernelRseq.rseq(arch, other.address(), len, RseqAbi.FLAG_UNREGISTER, sig)));
                }
            }
        } finally {
            if (registered) {
                KernelRseq.rseq(arch, a, len, RseqAbi.FLAG_UNREGISTER, sig);
            }
            KernelRseq.rseq(arch, other.address(), len, RseqAbi.FLAG_UNREGISTER, sig);
            CpuSets.setAffinity(allowed);
        }
        return steps;
    }

    /** Runs the matrix on a new platform thread (unregistered where glibc's registration is off). */
    static List<Step> matrixOnFreshThread() throws InterruptedException {
        AtomicReference<List<Step>> steps = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                steps.set(matrix());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return steps.get();
    }

    /** Child: prints each step as {@code step=ok|FAIL <step>}. */
    public static final class MatrixChild {
        public static void main(String[] args) throws Exception {
            ChildJvm.emit("glibcRegistered", Platform.get().glibc().registered());
            for (Step s : matrixOnFreshThread()) {
                ChildJvm.emit("step", (s.ok() ? "ok " : "FAIL ") + s);
            }
        }
    }

    @Test
    void errnoMatrixInAChildWithGlibcRseqOff() {
        assumeRseqKernel();
        ChildJvm.Result r = ChildJvm.run(MatrixChild.class, List.of(),
                ChildJvm.env("GLIBC_TUNABLES", ChildJvm.GLIBC_RSEQ_OFF), Duration.ofSeconds(60)).requireSuccess();
        assertEquals("false", r.value("glibcRegistered"), "the tunable must switch glibc's registration off\n" + r.describe());
        List<String> steps = r.values("step");
        assertTrue(steps.size() >= 25, "the whole matrix ran\n" + r.describe());
        List<String> failed = steps.stream().filter(s -> !s.startsWith("ok ")).toList();
        assertTrue(failed.isEmpty(), "failed steps: " + failed + "\n" + r.describe());
    }

    @Test
    void errnoMatrixInProcess() throws Exception {
        assumeRseqKernel();
        assumeTrue(!Platform.get().glibc().registered(),
                "glibc registered this process's threads: the in-process matrix needs GLIBC_TUNABLES="
                        + ChildJvm.GLIBC_RSEQ_OFF + " (the own-registration execution); the child-JVM test covers it here");
        List<Step> steps = matrixOnFreshThread();
        assertTrue(steps.size() >= 25, steps.toString());
        List<Step> failed = steps.stream().filter(s -> !s.ok()).toList();
        assertTrue(failed.isEmpty(), "failed steps: " + failed + "\nall: " + steps);
    }

    /** Child: registers the unmapped user address 0x10000 on a fresh thread. */
    public static final class UnmappedChild {
        public static void main(String[] args) throws Exception {
            Arch arch = Platform.get().arch();
            Thread t = Thread.ofPlatform().start(() -> {
                int r = KernelRseq.rseq(arch, 0x10000L, RseqAbi.MIN_AREA_SIZE, 0, arch.signature());
                ChildJvm.emit("register", r);
                ChildJvm.emit("unregister", KernelRseq.rseq(arch, 0x10000L, RseqAbi.MIN_AREA_SIZE,
                        RseqAbi.FLAG_UNREGISTER, arch.signature()));
            });
            t.join();
            ChildJvm.emit("survived", true);
        }
    }

    /**
     * An unmapped user address is never a live registration. Linux 6.18 refuses it with
     * EFAULT (measured here); older kernels accept it and kill the process when they
     * first write the area, which is why this runs in a child JVM only.
     */
    @Test
    void unmappedUserAddressIsNeverAcceptedSilently() {
        assumeRseqKernel();
        ChildJvm.Result r = ChildJvm.run(UnmappedChild.class, List.of(),
                ChildJvm.env("GLIBC_TUNABLES", ChildJvm.GLIBC_RSEQ_OFF), Duration.ofSeconds(60));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)")
                .matcher(System.getProperty("os.version", ""));
        boolean new618 = m.find() && (Integer.parseInt(m.group(1)) > 6
                || (Integer.parseInt(m.group(1)) == 6 && Integer.parseInt(m.group(2)) >= 18));
        if (new618 || r.exitCode() == 0) {
            r.requireSuccess();
            assertEquals(String.valueOf(-RseqAbi.EFAULT), r.value("register"), r.describe());
            assertEquals(String.valueOf(-RseqAbi.EINVAL), r.value("unregister"), "nothing was registered\n" + r.describe());
        } else {
            assertTrue(r.values("register").isEmpty(), "the kernel must not report success\n" + r.describe());
        }
    }

    @Test
    void probeMatchesPlatform() {
        assumeTrue(Platform.get().linux(), "Linux only");
        Arch arch = Platform.get().arch();
        assertEquals(Platform.get().probe(), KernelRseq.probe(arch));
        if (Platform.get().probe() == KernelRseq.Probe.PRESENT) {
            assertEquals(-RseqAbi.EINVAL, KernelRseq.rseq(arch, 0, 0, 0, 0), "rseq(NULL, 0, 0, 0)");
        }
    }

    @Test
    void aRegisteredThreadRefusesEveryOtherRegistration() throws Exception {
        assumeRseqKernel();
        assumeTrue(Platform.get().glibc().registered(), "needs glibc's registration on this thread");
        // Under glibc every thread is registered: any attempt with our area is refused, never accepted.
        Arch arch = Platform.get().arch();
        MemorySegment area = Arena.global().allocate(32, 32);
        AtomicReference<int[]> results = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> results.set(new int[]{
                KernelRseq.rseq(arch, area.address(), 32, 0, arch.signature()),
                KernelRseq.rseq(arch, area.address(), 32, RseqAbi.FLAG_UNREGISTER, arch.signature())}));
        t.join();
        assertEquals(-RseqAbi.EINVAL, results.get()[0], "another address than glibc's");
        assertEquals(-RseqAbi.EINVAL, results.get()[1], "unregistering an area that is not the registered one");
    }
}
