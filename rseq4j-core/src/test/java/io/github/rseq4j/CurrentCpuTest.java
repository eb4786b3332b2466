package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.os.Platform;
import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.os.CpuSets;
import io.github.rseq4j.internal.os.Libc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where am I running: {@link Rseq#currentCpu()}, {@link Rseq#currentNumaNode()},
 * {@link Rseq#currentConcurrencyId()} against the kernel's own answers.
 *
 * <p>What can be checked soundly for virtual threads: in the test JVM, only ranges (a
 * carrier may migrate between any two reads, and which carrier runs a virtual thread is
 * not under the test's control). In a child JVM whose scheduler has exactly one carrier,
 * the test pins that carrier to one CPU; then every read by every virtual thread must
 * name that CPU, which shows the answer comes from the carrier the virtual thread is
 * mounted on, not from state cached for the virtual thread.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class CurrentCpuTest {

    @Test
    void affinityWalkAgreesWithTheKernel() throws Throwable {
        assumeTrue(Platform.get().linux(), "Linux only");
        onPlatformThread(() -> {
            List<Integer> original = CpuSets.allowed();
            int maxNode = RseqTest.maxNumaNode();
            int possible = Platform.get().possibleCpus().size();
            try {
                for (int round = 0; round < 3; round++) {
                    for (int cpu : original) {
                        assertEquals(0, CpuSets.setAffinity(List.of(cpu)), "pin to CPU " + cpu);
                        for (int k = 0; k < 50; k++) {
                            assertEquals(cpu, Rseq.currentCpu(), "Rseq.currentCpu() while pinned to " + cpu);
                            assertEquals(cpu, Libc.schedGetcpu(), "sched_getcpu() while pinned to " + cpu);
                        }
                        RseqStatus s = Rseq.status();
                        assertEquals(cpu, s.thread().cpu());
                        assertEquals(List.of(cpu), s.thread().allowedCpus());
                        if (Rseq.isRseqMode()) {
                            MemorySegment area = area();
                            assertEquals(cpu, area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID_START), "cpu_id_start");
                            assertEquals(cpu, area.get(ValueLayout.JAVA_INT, RseqAbi.CPU_ID), "cpu_id");
                            if (Platform.get().nodeIdUsable()) {
                                int node = Rseq.currentNumaNode();
                                assertTrue(node >= 0 && (maxNode < 0 || node <= maxNode),
                                        "node " + node + " outside [0, " + maxNode + "]");
                                assertEquals(node, area.get(ValueLayout.JAVA_INT, RseqAbi.NODE_ID));
                            }
                            if (Platform.get().mmCidUsable()) {
                                int cid = Rseq.currentConcurrencyId();
                                assertTrue(cid >= 0 && cid < possible, "mm_cid " + cid + " outside [0, " + possible + ")");
                            }
                        } else {
                            assertFallbackFieldsUnsupported();
                        }
                    }
                }
            } finally {
                assertEquals(0, CpuSets.setAffinity(original));
            }
            assertEquals(original, CpuSets.allowed(), "affinity restored");
        });
    }

    @Test
    void fieldsAreUnsupportedInPortableModeWithAMessage() {
        assumeTrue(!Rseq.isRseqMode(), "rseq mode: the fields are supported");
        assertFallbackFieldsUnsupported();
    }

    private static void assertFallbackFieldsUnsupported() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, Rseq::currentNumaNode);
        assertTrue(e.getMessage().contains("node_id") && e.getMessage().contains("portable mode"), e.getMessage());
        e = assertThrows(UnsupportedOperationException.class, Rseq::currentConcurrencyId);
        assertTrue(e.getMessage().contains("mm_cid") && e.getMessage().contains("portable mode"), e.getMessage());
    }

    /** The calling thread's rseq area (rseq mode, registered thread). */
    private static MemorySegment area() {
        long a;
        try {
            a = JitConstants.READERS.readArea();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        assertNotEquals(0L, a, "a thread that used Rseq.currentCpu() must have an area");
        return MemorySegment.ofAddress(a).reinterpret(RseqAbi.MIN_AREA_SIZE);
    }

    @Test
    void thousandVirtualThreadsThatYieldReadValidCpus() throws Exception {
        assumeTrue(Platform.get().linux(), "Linux only");
        Set<Integer> online = Set.copyOf(CpuSets.parseList(Files.readString(Path.of("/sys/devices/system/cpu/online"))));
        int possible = Platform.get().possibleCpus().size();
        int maxNode = RseqTest.maxNumaNode();
        boolean fields = Rseq.isRseqMode() && Platform.get().mmCidUsable();
        ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
        ConcurrentSkipListSet<Integer> seen = new ConcurrentSkipListSet<>();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int v = 0; v < 1000; v++) {
                ex.submit(() -> {
                    for (int k = 0; k < 20; k++) {
                        int cpu = Rseq.currentCpu();
                        seen.add(cpu);
                        if (!online.contains(cpu)) {
                            bad.add("cpu " + cpu);
                        }
                        if (fields) {
                            int node = Rseq.currentNumaNode();
                            int cid = Rseq.currentConcurrencyId();
                            if (node < 0 || (maxNode >= 0 && node > maxNode)) {
                                bad.add("node " + node);
                            }
                            if (cid < 0 || cid >= possible) {
                                bad.add("mm_cid " + cid);
                            }
                        }
                        Thread.yield();
                    }
                    return null;
                });
            }
        }
        assertTrue(bad.isEmpty(), "out-of-range answers: " + bad.stream().limit(20).toList());
        assertFalse(seen.isEmpty());
    }

    /** Child: one carrier, pinned to each CPU in turn; prints what virtual threads read. */
    public static final class OneCarrierChild {
        public static void main(String[] args) throws Exception {
            List<Integer> allowed = CpuSets.allowed();
            ChildJvm.emit("allowed", allowed);
            ChildJvm.emit("mode", Rseq.status().mode());
            Set<String> carriers = new ConcurrentSkipListSet<>();
            for (int cpu : allowed) {
                onVirtualThread(() -> CpuSets.setAffinity(List.of(cpu)));
                Set<Integer> rseqCpus = new ConcurrentSkipListSet<>(), schedCpus = new ConcurrentSkipListSet<>();
                List<Thread> vts = new ArrayList<>();
                for (int v = 0; v < 200; v++) {
                    vts.add(Thread.ofVirtual().start(() -> {
                        for (int k = 0; k < 10; k++) {
                            rseqCpus.add(Rseq.currentCpu());
                            schedCpus.add(Libc.schedGetcpu());
                            String me = Thread.currentThread().toString();
                            carriers.add(me.substring(me.indexOf('@') + 1));
                            Thread.yield();
                        }
                    }));
                }
                for (Thread t : vts) {
                    t.join();
                }
                ChildJvm.emit("pinned", cpu + " rseq=" + rseqCpus + " sched=" + schedCpus);
            }
            onVirtualThread(() -> CpuSets.setAffinity(allowed));
            ChildJvm.emit("carriers", carriers);
        }

        private static void onVirtualThread(Runnable r) throws InterruptedException {
            Thread.ofVirtual().start(r).join();
        }
    }

    @Test
    void virtualThreadsReadTheCpuOfTheirCarrier() {
        assumeTrue(Platform.get().linux(), "Linux only");
        ChildJvm.Result r = ChildJvm.run(OneCarrierChild.class,
                concat(ChildJvm.parentModeFlags(), List.of("-Djdk.virtualThreadScheduler.parallelism=1",
                        "-Djdk.virtualThreadScheduler.maxPoolSize=1")),
                Map.of(), Duration.ofSeconds(60)).requireSuccess();
        assertEquals(Rseq.status().mode().name(), r.value("mode"), "the child runs in this execution's mode");
        assertEquals(1, r.value("carriers").split(",").length, "premise: one carrier\n" + r.describe());
        List<String> pinned = r.values("pinned");
        assertEquals(CpuSets.allowed().size(), pinned.size(), r.describe());
        for (String line : pinned) {
            String cpu = line.substring(0, line.indexOf(' '));
            assertEquals(cpu + " rseq=[" + cpu + "] sched=[" + cpu + "]", line, "every read names the carrier's CPU");
        }
    }

    /** Child under GLIBC_TUNABLES=glibc.pthread.rseq=0: status, then (pinned CPU, currentCpu, sched_getcpu) triples. */
    public static final class TunableChild {
        public static void main(String[] args) {
            ChildJvm.emit("registrationBeforeUse", Rseq.status().thread().registration());
            Rseq.currentCpu();
            RseqStatus s = Rseq.status();
            ChildJvm.emit("mode", s.mode());
            ChildJvm.emit("strategy", s.registrationStrategy());
            ChildJvm.emit("registration", s.thread().registration());
            ChildJvm.emit("glibcRseqSize", s.glibc().rseqSize());
            ChildJvm.emit("platformCanDoRseq", RseqTest.platformCanDoRseq());
            List<Integer> allowed = CpuSets.allowed();
            try {
                for (int cpu : allowed) {
                    if (CpuSets.setAffinity(List.of(cpu)) != 0) {
                        throw new IllegalStateException("cannot pin to " + cpu);
                    }
                    for (int k = 0; k < 20; k++) {
                        ChildJvm.emit("triple", cpu + " " + Rseq.currentCpu() + " " + Libc.schedGetcpu());
                    }
                }
            } finally {
                CpuSets.setAffinity(allowed);
            }
        }
    }

    @Test
    void underTheGlibcTunableRseq4jRegistersAndCurrentCpuIsRight() {
        assumeTrue(Platform.get().linux(), "Linux only");
        ChildJvm.Result r = ChildJvm.run(TunableChild.class, List.of(),
                ChildJvm.env("GLIBC_TUNABLES", ChildJvm.GLIBC_RSEQ_OFF), Duration.ofSeconds(60)).requireSuccess();
        assertNotEquals("GLIBC", r.value("strategy"), r.describe());
        assertNotEquals("GLIBC", r.value("registration"), r.describe());
        assertEquals("0", r.value("glibcRseqSize"), "glibc did not register\n" + r.describe());
        if (Boolean.parseBoolean(r.value("platformCanDoRseq"))) {
            assertEquals("RSEQ", r.value("mode"), r.describe());
            assertEquals("OWN", r.value("strategy"));
            assertEquals("NONE", r.value("registrationBeforeUse"), "status() does not register");
            assertEquals("OWN", r.value("registration"), "the first currentCpu() registered the thread");
        }
        List<String> triples = r.values("triple");
        assertEquals(20 * CpuSets.allowed().size(), triples.size(), r.describe());
        for (String t : triples) {
            String[] f = t.split(" ");
            assertEquals(f[0], f[1], "currentCpu() while pinned: " + t);
            assertEquals(f[0], f[2], "sched_getcpu() while pinned: " + t);
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    /** Runs {@code body} on a new platform thread and rethrows what it threw. */
    static void onPlatformThread(Executable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("rseq4j-test").start(() -> {
            try {
                body.execute();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
