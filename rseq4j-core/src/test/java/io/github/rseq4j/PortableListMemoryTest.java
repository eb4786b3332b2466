package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, defect 6: in portable mode a {@link PerCpuList}'s nodes are freed when its
 * memory is closed. 500 lists, each on a memory of its own with one node, all closed:
 * the process's resident memory grows by at most 16 MB (it grew by about 1 MiB per list,
 * 500 MB, when every list kept a chunk for the life of the process). A payload kept past
 * the close, and the closed list, throw {@link IllegalStateException}: no crash, no read
 * of freed memory. Run in child JVMs, in portable mode with native access and without it.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PortableListMemoryTest {
    static final int LISTS = 500;
    static final long MAX_GROWTH_KB = 16 * 1024;

    @Test
    void portableModeWithNativeAccess() {
        check(ChildJvm.run(Child.class, List.of("-Drseq4j.mode=portable"), Map.of(), Duration.ofSeconds(120)));
    }

    @Test
    void portableModeWithoutNativeAccess() {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaCommand(), "--illegal-native-access=deny",
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Child.class.getName()));
        check(ChildJvm.exec(cmd, Map.of(), Duration.ofSeconds(120)));
    }

    private static void check(ChildJvm.Result r) {
        r.requireSuccess();
        assertEquals("PORTABLE", r.value("mode"), r.describe());
        long growth = Long.parseLong(r.value("rssGrowthKb"));
        assertTrue(growth <= MAX_GROWTH_KB, LISTS + " closed lists grew RSS by " + growth + " kB\n" + r.describe());
        for (String use : List.of("keptPayload", "newNode", "push", "pop")) {
            assertEquals("IllegalStateException", r.value(use), use + " after close\n" + r.describe());
        }
    }

    /** The child: {@value LISTS} lists with one node each, closed; RSS growth and use after close. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            ChildJvm.emit("mode", Rseq.status().mode());
            cycles(20); // warm-up: classes loaded, code compiled, heap settled
            settle();
            long before = rssKb();
            MemorySegment kept = null;
            PerCpuList last = null;
            for (int i = 0; i < LISTS; i++) {
                PerCpuMemory m = new PerCpuMemory(IndexMode.CPU_ID, 64);
                PerCpuList list = m.newList(64);
                MemorySegment node = list.newNode();
                node.set(ValueLayout.JAVA_LONG, 0, i);
                int at = list.push(node);
                // from the slice it went to: a plain pop() reads the slice of the CPU the thread
                // is on by then, empty after a migration (under emulation one came back null)
                try (StoppedSlice held = m.stop(at)) {
                    kept = list.popStopped(held);
                }
                if (kept.get(ValueLayout.JAVA_LONG, 0) != i) {
                    throw new AssertionError("popped another node");
                }
                m.close();
                last = list;
            }
            settle();
            ChildJvm.emit("rssGrowthKb", rssKb() - before);
            MemorySegment payload = kept;
            PerCpuList list = last;
            if (!list.toString().matches("PerCpuList\\[payload=64 bytes, nodes created=1, \\d+ slices, closed]")) {
                throw new AssertionError("toString: " + list);
            }
            ChildJvm.emit("keptPayload", thrown(() -> payload.get(ValueLayout.JAVA_LONG, 0)));
            ChildJvm.emit("newNode", thrown(list::newNode));
            ChildJvm.emit("push", thrown(() -> list.push(payload)));
            ChildJvm.emit("pop", thrown(list::pop));
        }

        private static void cycles(int n) {
            for (int i = 0; i < n; i++) {
                try (PerCpuMemory m = new PerCpuMemory(IndexMode.CPU_ID, 64)) {
                    PerCpuList list = m.newList(64);
                    list.push(list.newNode());
                    list.pop();
                }
            }
        }

        private static String thrown(Runnable r) {
            try {
                r.run();
                return "nothing";
            } catch (RuntimeException e) {
                return e.getClass().getSimpleName();
            }
        }

        private static void settle() throws InterruptedException {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(TimeScale.millis(100));
            }
        }

        private static long rssKb() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            throw new IllegalStateException("no VmRSS in /proc/self/status");
        }
    }
}
