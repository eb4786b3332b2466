/**
 * The loops dev/ab-fastpath times: each is compiled against one rseq4j jar and loaded in a
 * class loader of its own, so two versions run side by side in one JVM. Uses only API that
 * every version since the first 0.1 state (e9e2685) has, except the two structures that
 * version 0.1.0 creates with a constructor where earlier versions had a static factory: those
 * are made by reflection (outside the timed loops), whichever form the jar has.
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
  static final PerCpuList LIST = memory().newList(64);
  static final PerCpuHistogram H = histogram();
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
  /** {@code new PerCpuMemory(CPU_ID)}, or {@code PerCpuMemory.create(CPU_ID)} before 0.1.0. */
  static PerCpuMemory memory() {
    try {
      return PerCpuMemory.class.getConstructor(IndexMode.class).newInstance(IndexMode.CPU_ID);
    } catch (NoSuchMethodException e) {
      try {
        return (PerCpuMemory) PerCpuMemory.class.getMethod("create", IndexMode.class).invoke(null, IndexMode.CPU_ID);
      } catch (ReflectiveOperationException e2) { throw new IllegalStateException(e2); }
    } catch (ReflectiveOperationException e) { throw new IllegalStateException(e); }
  }
  /** {@code new PerCpuHistogram(BucketLayout.logLinear(2^40, 5))}, or {@code PerCpuHistogram.logLinear(2^40, 5)} before 0.1.0. */
  static PerCpuHistogram histogram() {
    try {
      Class<?> layout;
      try {
        layout = Class.forName("io.github.rseq4j.BucketLayout");
      } catch (ClassNotFoundException e) {
        layout = null;
      }
      if (layout != null) {
        try {
          Object l = layout.getMethod("logLinear", long.class, int.class).invoke(null, 1L << 40, 5);
          return (PerCpuHistogram) PerCpuHistogram.class.getConstructor(layout).newInstance(l);
        } catch (NoSuchMethodException e) {
          // a version with BucketLayout and a static factory: below
        }
      }
      return (PerCpuHistogram) PerCpuHistogram.class.getMethod("logLinear", long.class, int.class).invoke(null, 1L << 40, 5);
    } catch (ReflectiveOperationException e) { throw new IllegalStateException(e); }
  }
}
