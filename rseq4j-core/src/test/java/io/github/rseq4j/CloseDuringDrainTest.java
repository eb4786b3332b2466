package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, defect 2: {@code close()} must never give back a slice that a live stopper
 * holds. A drain holds slice 0 of list A's memory while its sink sleeps 1.7 s; the memory
 * is closed meanwhile (close waits a second for the holder); 300 ms later (past the
 * quarantine) a memory B of the same size is created, and its first item, on slice 0,
 * is set to a value a stale drain would trust as A's list head: another list's node
 * ({@code node}: that node would be delivered and B's word overwritten) or 0x1000
 * ({@code fault}: the stale pop would read unmapped memory, a SIGSEGV that kills the JVM).
 * Each runs in a child JVM, so a crash is a failed test, not a dead test JVM. Expected:
 * the drain delivers exactly A's three nodes, B's word keeps its value, the child exits
 * normally, and A's memory is given back once the drain restarts its slice.
 */
class CloseDuringDrainTest {

    @ParameterizedTest
    @ValueSource(strings = {"node", "fault"})
    void closeNeverGivesBackASliceADrainHolds(String variant) {
        ChildJvm.Result r = ChildJvm.run(Child.class, ChildJvm.parentModeFlags(), Map.of(), Duration.ofMinutes(2), variant);
        assertEquals(0, r.exitCode(), "the child JVM must not crash\n" + r.describe());
        assertEquals("3", r.value("delivered"), "the drain delivers A's three nodes\n" + r.describe());
        assertEquals("0", r.value("foreign"), "nodes delivered that were not A's\n" + r.describe());
        assertEquals("true", r.value("b_intact"), "B's word after the drain\n" + r.describe());
        assertEquals("true", r.value("a_released"), "A given back after the drain's restart\n" + r.describe());
        assertTrue(Long.parseLong(r.value("close_ms")) >= 900, "close() waited for the holder\n" + r.describe());
    }

    /** The child JVM: {@code node} or {@code fault}. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            boolean fault = args[0].equals("fault");
            PerCpuMemory a = new PerCpuMemory(IndexMode.CPU_ID, 256);
            PerCpuList listA = a.newList(16);
            List<Long> mine = new CopyOnWriteArrayList<>();
            try (StoppedSlice s = a.stop(0)) {
                for (int i = 0; i < 3; i++) {
                    MemorySegment n = listA.newNode();
                    mine.add(n.address());
                    listA.pushStopped(s, n);
                }
            }
            PerCpuMemory c = new PerCpuMemory(IndexMode.CPU_ID, 4096);
            PerCpuList listC = c.newList(16);
            MemorySegment other = listC.newNode();
            long otherNode;   // the raw node address a list head holds
            try (StoppedSlice s = c.stop(0)) {
                listC.pushStopped(s, other);
                otherNode = firstHead(c);
            }

            List<Long> delivered = new CopyOnWriteArrayList<>();
            CountDownLatch first = new CountDownLatch(1);
            Thread drainer = new Thread(() -> listA.drain(0, n -> {
                delivered.add(n.address());
                first.countDown();
                if (delivered.size() == 1) {
                    try {
                        Thread.sleep(TimeScale.millis(1700));   // a slow sink: the slice stays stopped meanwhile
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }), "drainer");
            drainer.start();
            first.await();
            long t0 = System.nanoTime();
            a.close();
            ChildJvm.emit("close_ms", (System.nanoTime() - t0) / 1_000_000);
            Thread.sleep(300);   // past the 250 ms quarantine
            PerCpuMemory b = new PerCpuMemory(IndexMode.CPU_ID, 256);
            PerCpuItem item = b.newItem(8);
            long bait = fault ? 0x1000 : otherNode;
            try (StoppedSlice s = b.stop(0)) {
                item.setStopped(s, 0, bait);
            }
            drainer.join();
            ChildJvm.emit("delivered", delivered.size());
            ChildJvm.emit("foreign", delivered.stream().filter(x -> !mine.contains(x)).count());
            ChildJvm.emit("b_intact", item.get(0, 0) == bait);
            ChildJvm.emit("a_released", a.slices.isReleased());
            ChildJvm.emit("mode", JitConstants.RSEQ ? "rseq" : "portable");
        }

        /** The first non-zero word after slice 0's header of {@code m}: its only list's head. */
        private static long firstHead(PerCpuMemory m) {
            MemorySegment w = m.slices.whole();
            for (long off = 64; off < 4096; off += 8) {
                long v = w.get(JAVA_LONG, m.slices.at(0, off));
                if (v != 0) {
                    return v;
                }
            }
            throw new AssertionError("no list head found");
        }
    }
}
