/**
 * The loops dev/ab-fastpath times: each is compiled against one rseq4j jar and loaded in a
 * class loader of its own, so two versions run side by side in one JVM. Uses only API that
 * every version since the first 0.1 state (e9e2685) has.
 */
import io.github.rseq4j.*;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
public class FastPathLoops {
  static final class Pooled { long uses; long p1,p2,p3,p4,p5,p6,p7; }
  static final PerCpuCounter C = new PerCpuCounter();
  static final PerCpuPool<Pooled> POOL = new PerCpuPool<>(Pooled::new, 1024);
  static final PerCpuPool<Pooled> POOL2 = new PerCpuPool<>(Pooled::new, 1024);
  static final PerCpuBufferPool BP = new PerCpuBufferPool(4096, 1024);
  static final PerCpuList LIST = PerCpuMemory.create(IndexMode.CPU_ID).newList(64);
  static final PerCpuHistogram H = PerCpuHistogram.logLinear(1L << 40, 5);
  static final PerCpuRingBuffer RING = new PerCpuRingBuffer(1 << 16, PerCpuRingBuffer.OverflowPolicy.DROP);
  static final byte[] RECORD = new byte[16];
  static long drained;
  public static long histogram(int n) { for (int i = 0; i < n; i++) H.record((i * 0x9E3779B97F4A7C15L) >>> 28); return H.bucketCount(); }
  public static long ring(int n) { long s = 0; for (int i = 0; i < n; i++) { if (RING.write(RECORD)) s++; if ((i & 255) == 255) RING.drain((cpu, b, len) -> drained += len); } RING.drain((cpu, b, len) -> drained += len); return s; }
  public static long counter(int n) { for (int i = 0; i < n; i++) C.increment(); return C.sum(); }
  public static long pool(int n) { long s = 0; for (int i = 0; i < n; i++) { Pooled p = POOL.acquire(); s += ++p.uses; POOL.release(p);} return s; }
  public static long lease(int n) { long s = 0; for (int i = 0; i < n; i++) { try (Lease<Pooled> l = POOL2.lease()) { s += ++l.get().uses; } } return s; }
  public static long bufferPool(int n) { long s = 0; for (int i = 0; i < n; i++) { MemorySegment b = BP.acquire(); long v = b.get(ValueLayout.JAVA_LONG, 0) + 1; b.set(ValueLayout.JAVA_LONG, 0, v); s += v; BP.release(b);} return s; }
  public static long list(int n) { long s = 0; for (int i = 0; i < n; i++) { MemorySegment node = LIST.pop(); if (node == null) node = LIST.newNode(); long v = node.get(ValueLayout.JAVA_LONG, 0) + 1; node.set(ValueLayout.JAVA_LONG, 0, v); s += v; LIST.push(node);} return s; }
}
