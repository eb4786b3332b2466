package io.github.rseq4j.internal.ops;

import io.github.rseq4j.*;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class SmokeTest {
    @Test
    void everything() throws Exception {
        System.out.println(Rseq.status());
        for (IndexMode mode : IndexMode.values()) {
            PerCpuMemory mem = PerCpuMemory.create(mode);
            PerCpuItem item = mem.allocate(16);
            PerCpuList list = mem.newList(16);
            PerCpuRing ring = mem.newRing(1 << 16);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int tt = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 100000; i++) item.add(8, 1);
                    for (int i = 0; i < 1000; i++) { MemorySegment n = list.newNode(); n.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1); list.push(n); }
                    byte[] rec = new byte[13]; rec[0] = (byte) tt;
                    for (int i = 0; i < 100; i++) { while (ring.write(MemorySegment.ofArray(rec)) < 0) Thread.onSpinWait(); }
                }));
            }
            for (Thread t : ts) t.join();
            assertEquals(800000, item.sum(8));
            long popped = 0;
            for (int s = 0; s < mem.slices(); s++) popped += list.drain(s, n -> {});
            assertEquals(8000, popped);
            AtomicLong recs = new AtomicLong();
            ring.drain((i, b, l) -> { assertEquals(13, l); recs.incrementAndGet(); });
            assertEquals(800, recs.get());
            System.out.println(mode + " ok " + Rseq.status().fallbacks());
        }
    }
}
