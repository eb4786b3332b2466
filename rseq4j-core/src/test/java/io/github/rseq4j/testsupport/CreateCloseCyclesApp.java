package io.github.rseq4j.testsupport;

import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.PerCpuPool;
import io.github.rseq4j.PerCpuRingBuffer;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child-JVM program: creates, uses and closes one kind of structure many times and
 * prints the process's VmSize and VmRSS (kB) after a warm-up and at the end, plus the
 * per-CPU regions still alive. Args: {@code pool|bufferpool|ringbuffer|dropped-pool cycles}
 * ({@code dropped-pool} never calls close: the garbage collector must give memory back).
 */
public final class CreateCloseCyclesApp {
    private CreateCloseCyclesApp() {}

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        int cycles = Integer.parseInt(args[1]);
        // Warm-up long enough that what the JIT and the region bookkeeping take once is not counted: with 300
        // cycles the ring buffer's RSS grew 2-17 MB (old code and new alike), with 3,000 by 0.1-1.6 MB.
        run(kind, 3_000);
        settle();
        long vmBefore = status("VmSize"), rssBefore = status("VmRSS");
        long regionsBefore = SliceMemory.liveRegions();
        run(kind, cycles);
        settle();
        ChildJvm.emit("vmGrowthKb", status("VmSize") - vmBefore);
        ChildJvm.emit("rssGrowthKb", status("VmRSS") - rssBefore);
        ChildJvm.emit("regionsGrowth", SliceMemory.liveRegions() - regionsBefore);
        ChildJvm.emit("reservedMb", SliceMemory.reservedBytes() >> 20);
    }

    /**
     * Collects until the cleaner has given back what is garbage now: at least 3 rounds of a
     * collection and a pause, then until a round leaves the live regions unchanged (bounded:
     * 30 s times the time scale). Under emulation the cleaner lagged 3 rounds by about 2,000
     * dropped pools, so a fixed number of rounds counted them before and not after.
     */
    private static void settle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeScale.nanosOfSeconds(30);
        long previous = -1;
        for (int i = 0; ; i++) {
            System.gc();
            Thread.sleep(TimeScale.millis(100));
            long live = SliceMemory.liveRegions();
            if ((i >= 2 && live == previous) || System.nanoTime() > deadline) {
                return;
            }
            previous = live;
        }
    }

    private static void run(String kind, int cycles) {
        byte[] record = new byte[64];
        for (int c = 0; c < cycles; c++) {
            switch (kind) {
                case "pool" -> {
                    PerCpuPool<StringBuilder> p = new PerCpuPool<>(StringBuilder::new, 64);
                    StringBuilder a = p.acquire(), b = p.acquire();
                    p.release(a);
                    p.release(b);
                    p.close();
                }
                case "dropped-pool" -> {
                    PerCpuPool<StringBuilder> p = new PerCpuPool<>(StringBuilder::new, 64);
                    p.release(p.acquire());
                }
                case "bufferpool" -> {
                    PerCpuBufferPool p = new PerCpuBufferPool(4096, 16);
                    var a = p.acquire();
                    a.fill((byte) 1);
                    p.release(a);
                    p.close();
                }
                case "ringbuffer" -> {
                    PerCpuRingBuffer r = new PerCpuRingBuffer(64 * 1024, PerCpuRingBuffer.OverflowPolicy.DROP);
                    for (int k = 0; k < 100; k++) {
                        r.write(record);
                    }
                    r.drain((cpu, buf, len) -> { });
                    r.close();
                }
                default -> throw new IllegalArgumentException(kind);
            }
        }
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
