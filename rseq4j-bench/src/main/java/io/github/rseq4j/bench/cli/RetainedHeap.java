package io.github.rseq4j.bench.cli;

import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The heap a set of objects keeps alive, measured two independent ways around the code that
 * makes (and uses) them; the memory topic's counters and the series topic's series are
 * measured by it.
 *
 * <ol>
 * <li><b>retained heap</b>: {@code MemoryMXBean} heap used after {@code System.gc()}
 *     (repeated until two readings agree, {@link #settledHeapUsed()}), before and after; the
 *     difference. Whatever the code keeps reachable from its result counts, so the result
 *     must hold the objects (an array of them, say);</li>
 * <li><b>class histogram</b> ({@link HeapHistogram}, where the JVM has one): the live
 *     objects per class before and after; the classes with at least one new instance per
 *     100 objects made are the objects' own, and their bytes over the count the second
 *     figure, with the breakdown.</li>
 * </ol>
 * The first histogram's text is taken before the first heap reading, so it is alive at both
 * readings and cancels out.
 */
final class RetainedHeap {
    private RetainedHeap() {
    }

    /**
     * What {@link #measure} found.
     *
     * @param result       what the measured code returned (it was reachable at the second reading)
     * @param retained     heap used after minus before, in bytes
     * @param histogram    bytes of the objects' own classes (see the class comment); NaN when the
     *                     JVM has no class histogram
     * @param classes      those classes, per object made, largest first (empty without a histogram)
     */
    record Delta<T>(T result, long retained, double histogram, List<MemorySuite.ClassShare> classes) {
    }

    /**
     * Runs {@code make}, which makes {@code objects} objects and returns something that holds
     * them all, and measures the heap they retain.
     */
    static <T> Delta<T> measure(int objects, Supplier<T> make) {
        boolean histogram = HeapHistogram.available();
        String before = histogram ? HeapHistogram.takeText() : "";
        long heapBefore = settledHeapUsed();
        T held = make.get();
        long heapAfter = settledHeapUsed();
        String after = histogram ? HeapHistogram.takeText() : "";
        Reference.reachabilityFence(held);
        List<MemorySuite.ClassShare> classes = new ArrayList<>();
        double histBytes = Double.NaN;
        if (histogram) {
            histBytes = 0;
            for (Map.Entry<String, HeapHistogram.Entry> e : HeapHistogram.diff(HeapHistogram.parse(before),
                    HeapHistogram.parse(after)).entrySet()) {
                HeapHistogram.Entry d = e.getValue();
                if (d.instances() * 100 >= objects) {
                    classes.add(new MemorySuite.ClassShare(e.getKey(), (double) d.instances() / objects,
                            (double) d.bytes() / objects));
                    histBytes += d.bytes();
                }
            }
            classes.sort(Comparator.comparingDouble(MemorySuite.ClassShare::bytesPerUnit).reversed());
        }
        return new Delta<>(held, heapAfter - heapBefore, histBytes, List.copyOf(classes));
    }

    /** Heap used after GC, repeated until two readings agree within 64 KiB (at most 6 GCs). */
    static long settledHeapUsed() {
        var mem = ManagementFactory.getMemoryMXBean();
        long last = -1;
        for (int i = 0; i < 6; i++) {
            System.gc();
            long used = mem.getHeapMemoryUsage().getUsed();
            if (last >= 0 && Math.abs(used - last) < 64 * 1024) {
                return Math.min(used, last);
            }
            last = used;
        }
        return last;
    }
}
