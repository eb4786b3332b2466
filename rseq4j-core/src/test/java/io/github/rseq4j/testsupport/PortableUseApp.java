package io.github.rseq4j.testsupport;

import io.github.rseq4j.BucketLayout;
import io.github.rseq4j.HistogramCounts;
import io.github.rseq4j.IndexMode;
import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.PerCpuCounter;
import io.github.rseq4j.PerCpuHistogram;
import io.github.rseq4j.PerCpuItem;
import io.github.rseq4j.PerCpuList;
import io.github.rseq4j.PerCpuMemory;
import io.github.rseq4j.PerCpuPool;
import io.github.rseq4j.PerCpuRingBuffer;
import io.github.rseq4j.Rseq;
import io.github.rseq4j.RseqStatus;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child-JVM program that uses every public structure from several threads and prints
 * {@code key=value} lines: run without native access, it shows that portable mode needs
 * none. Depends on nothing but rseq4j (it also runs with the core on the module path and
 * this class on the class path). Package outside rseq4j's module on purpose.
 */
public final class PortableUseApp {
    private PortableUseApp() {}

    private static final int THREADS = 4;
    private static final int PER_THREAD = 20_000;

    public static void main(String[] args) throws Exception {
        RseqStatus status = Rseq.status();
        out("mode", status.mode());
        out("probe", status.kernel().probe());
        out("reason", status.modeReason());
        try {
            out("cpu", Rseq.currentCpu());
        } catch (UnsupportedOperationException e) {
            out("cpuError", e.getMessage());
        }

        PerCpuCounter counter = new PerCpuCounter();
        PerCpuHistogram histogram = new PerCpuHistogram(BucketLayout.logLinear(1_000_000, 2));
        PerCpuPool<StringBuilder> pool = new PerCpuPool<>(StringBuilder::new, 8);
        PerCpuBufferPool buffers = new PerCpuBufferPool(256, 8);
        PerCpuRingBuffer ring = new PerCpuRingBuffer(1 << 16, PerCpuRingBuffer.OverflowPolicy.DROP);
        PerCpuMemory memory = new PerCpuMemory(IndexMode.CPU_ID, 4096);
        PerCpuItem item = memory.newItem(8);
        PerCpuList list = memory.newList(8);
        AtomicLong poolMisses = new AtomicLong();
        AtomicLong ringWrites = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Thread th = Thread.ofPlatform().start(() -> {
                for (int k = 0; k < PER_THREAD; k++) {
                    counter.increment();
                    histogram.record(1 + k % 1000);
                    item.add(0, 1);
                    StringBuilder sb = pool.acquire();
                    if (sb == null) {
                        poolMisses.incrementAndGet();
                    } else {
                        pool.release(sb);
                    }
                    MemorySegment b = buffers.acquire();
                    if (b != null) {
                        b.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, k);
                        buffers.release(b);
                    }
                    MemorySegment node = list.newNode();
                    node.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, k);
                    list.push(node);
                    if (k % 100 == 0 && ring.write(new byte[]{1, 2, 3, 4, 5})) {
                        ringWrites.incrementAndGet();
                    }
                }
            });
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        long[] popped = new long[1];
        for (int i = 0; i < memory.slices(); i++) {
            list.drain(i, node -> popped[0]++);
        }
        long[] drained = new long[1];
        ring.drain((cpu, buf, len) -> drained[0] += len == 5 ? 1 : 1_000_000);
        HistogramCounts snap = histogram.snapshotThenReset();
        out("expected", (long) THREADS * PER_THREAD);
        out("counter", counter.sumThenReset());
        out("histogram", snap.count());
        out("item", item.sum(0));
        out("listPopped", popped[0]);
        out("ringWrites", ringWrites.get());
        out("ringDrained", drained[0]);
        out("poolMisses", poolMisses.get());
        pool.close();
        buffers.close();
        ring.close();
        memory.close();
        out("done", true);
    }

    private static void out(String key, Object value) {
        System.out.println(key + "=" + value);
        System.out.flush();
    }
}
