package io.github.rseq4j;

import io.github.rseq4j.testsupport.TimeScale;
import io.github.rseq4j.PerCpuRingBuffer.OverflowPolicy;
import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What users hand the rings cannot hurt the JVM, and what the rings hand back is handed
 * once: regression tests for defects found by review.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingRobustnessTest {

    /**
     * A memory-mapped record whose file was truncated: reading it faults. Generated code
     * must never be the one to read it (a fault there kills the JVM with SIGBUS): the
     * write copies mapped sources through Java, which reports the fault as an exception.
     */
    public static final class TruncatedMappingChild {
        public static void main(String[] args) throws IOException {
            Path f = Files.createTempFile("rseq4j-truncated", ".bin");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment mapped;
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.allocate(8192));
                    mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 8192, arena);
                }
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.setLength(0);
                }
                PerCpuRingBuffer rb = new PerCpuRingBuffer(1 << 14, OverflowPolicy.DROP);
                PerCpuMemory mem = new PerCpuMemory(IndexMode.CPU_ID);
                PerCpuRing ring = mem.newRing(1 << 14);
                for (Runnable write : List.<Runnable>of(() -> rb.write(mapped.asSlice(0, 64)),
                        () -> ring.write(mapped.asSlice(128, 64)))) {
                    try {
                        write.run();
                        ChildJvm.emit("outcome", "written");
                    } catch (Throwable t) {
                        ChildJvm.emit("outcome", t.getClass().getSimpleName());
                    }
                }
                ChildJvm.emit("alive", true);
            } finally {
                Files.deleteIfExists(f);
            }
        }
    }

    @Test
    void aTruncatedMappedFileCannotCrashTheJvm() {
        ChildJvm.Result r = ChildJvm.run(TruncatedMappingChild.class, ChildJvm.parentModeFlags(), Map.of(),
                Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), "the JVM survived\n" + r.describe());
        assertEquals("true", r.value("alive"), r.describe());
        assertEquals(List.of("InternalError", "InternalError"), r.values("outcome"),
                "the fault surfaces as Java's exception for a faulting access\n" + r.describe());
    }

    @Test
    void aThrowingHandlerGetsEachRecordOnce() throws Throwable {
        PerCpuRingBuffer rb = new PerCpuRingBuffer(1 << 14, OverflowPolicy.DROP);
        int cpu = PerCpuMemoryTest.allowed().getFirst();
        PerCpuMemoryTest.pinned(cpu, () -> {
            for (int i = 0; i < 5; i++) {
                assertTrue(rb.write(new byte[]{(byte) i}));
            }
        });
        List<Integer> seen = new ArrayList<>();
        IOException boom = assertThrows(IOException.class, () -> rb.drain((c, bytes, length) -> {
            seen.add((int) bytes[0]);
            if (bytes[0] == 1) {
                throw new IOException("disk full");
            }
        }));
        assertEquals("disk full", boom.getMessage(), "checked exceptions pass through drain");
        assertEquals(List.of(0, 1), seen);
        assertEquals(3, rb.drain((c, bytes, length) -> seen.add((int) bytes[0])), "the rest, once");
        assertEquals(List.of(0, 1, 2, 3, 4), seen, "no record delivered twice, none lost");
        assertEquals(0, rb.drain((c, bytes, length) -> seen.add(-1)));
    }

    @Test
    void aWaitWithoutLimitDoesNotOverflow() throws Exception {
        PerCpuRingBuffer rb = new PerCpuRingBuffer(4096, OverflowPolicy.WAIT, ChronoUnit.FOREVER.getDuration());
        int cpu = PerCpuMemoryTest.allowed().getFirst();
        byte[] rec = new byte[1000];
        int[] written = new int[1];
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                PerCpuMemoryTest.pinned(cpu, () -> {
                    for (int i = 0; i < 20; i++) {          // 4 fill the ring; the rest wait for the drains
                        rb.write(rec);
                        written[0]++;
                    }
                });
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        });
        long drained = 0;
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(30);
        while (drained < 20 && System.nanoTime() < deadline) {
            drained += rb.drain((c, b, l) -> { });
            Thread.sleep(5);
        }
        writer.join(TimeScale.millis(10_000));
        assertEquals(20, written[0]);
        assertEquals(20, drained, "every record, with waits and without an overflow");
    }
}
