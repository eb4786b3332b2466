import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
/**
 * Paired A/B timing of two rseq4j versions in one JVM (dev/ab-fastpath): {@code A_DIR A_JAR
 * B_DIR B_JAR PAIRS}. Each version's {@code FastPathLoops} runs in its own class loader; for
 * each operation, after a warm-up, PAIRS pairs of 200,000-operation runs alternate which
 * version goes first, and the ratio B/A of each pair is kept. This VM switches between two
 * speeds on a scale of seconds (one row can read 18 or 33 ns in separate runs); both halves of
 * a pair run within milliseconds of each other, so their ratio cancels that, and the median
 * ratio with its interquartile range is the figure to quote.
 */
public class FastPathAB {
  public static void main(String[] a) throws Exception {
    URLClassLoader oldL = new URLClassLoader(new URL[]{Path.of(a[0]).toUri().toURL(), Path.of(a[1]).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
    URLClassLoader newL = new URLClassLoader(new URL[]{Path.of(a[2]).toUri().toURL(), Path.of(a[3]).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
    Class<?> o = oldL.loadClass("FastPathLoops"), n = newL.loadClass("FastPathLoops");
    int pairs = Integer.parseInt(a[4]);
    for (String op : new String[]{"counter", "histogram", "pool", "lease", "list", "bufferPool", "ring"}) {
      Method mo = o.getMethod(op, int.class), mn = n.getMethod(op, int.class);
      int k = 200_000;
      for (int w = 0; w < 30; w++) { mo.invoke(null, k); mn.invoke(null, k); }
      double[] ratio = new double[pairs]; double so = 0, sn = 0;
      for (int p = 0; p < pairs; p++) {
        boolean oldFirst = (p & 1) == 0;
        long t0 = System.nanoTime(); if (oldFirst) mo.invoke(null, k); else mn.invoke(null, k); long t1 = System.nanoTime();
        if (oldFirst) mn.invoke(null, k); else mo.invoke(null, k); long t2 = System.nanoTime();
        double to = oldFirst ? t1 - t0 : t2 - t1, tn = oldFirst ? t2 - t1 : t1 - t0;
        ratio[p] = tn / to; so += to; sn += tn;
      }
      Arrays.sort(ratio);
      System.out.printf("%-10s old %.2f ns/op  new %.2f ns/op  new/old: median of %d pairs %.3f (IQR %.3f..%.3f), ratio of sums %.3f%n",
          op, so / pairs / k, sn / pairs / k, pairs, ratio[pairs / 2], ratio[pairs / 4], ratio[3 * pairs / 4], sn / so);
    }
  }
}
