package io.github.rseq4j.bench.cli;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The live-object class histogram of this JVM ({@code jcmd <pid> GC.class_histogram},
 * read in-process through HotSpot's DiagnosticCommand MBean): instances and shallow bytes
 * per class, counted by the JVM itself after a full GC, so alignment, object headers and
 * {@code @Contended} padding are exactly what this JVM uses. Taken before and after
 * creating a set of objects, the difference is what those objects retain, by class.
 */
final class HeapHistogram {
    private HeapHistogram() {
    }

    /** Instances and bytes of one class. */
    record Entry(long instances, long bytes) {
    }

    //    1:         12345         678900  java.lang.String (java.base@25)
    private static final Pattern LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    /** Whether the DiagnosticCommand MBean is there (HotSpot). */
    static boolean available() {
        try {
            return server().isRegistered(name());
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /**
     * The histogram as the JVM prints it (a full GC runs first). Kept as this one string
     * until both histograms are taken, so that holding the first one adds only two
     * objects (a String and its bytes) to the second, not an object per class.
     */
    static String takeText() {
        try {
            return (String) server().invoke(name(), "gcClassHistogram", new Object[] {new String[0]},
                    new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new IllegalStateException("cannot take a class histogram: " + e, e);
        }
    }

    /** Live objects by class name, from {@link #takeText()}. */
    static Map<String, Entry> parse(String text) {
        Map<String, Entry> m = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher x = LINE.matcher(line);
            if (x.find()) {
                m.merge(x.group(3), new Entry(Long.parseLong(x.group(1)), Long.parseLong(x.group(2))),
                        (a, b) -> new Entry(a.instances + b.instances, a.bytes + b.bytes));
            }
        }
        return m;
    }

    /** {@code after - before}, per class, keeping the classes that changed. */
    static Map<String, Entry> diff(Map<String, Entry> before, Map<String, Entry> after) {
        Map<String, Entry> d = new HashMap<>();
        for (Map.Entry<String, Entry> e : after.entrySet()) {
            Entry b = before.getOrDefault(e.getKey(), new Entry(0, 0));
            Entry a = e.getValue();
            if (a.instances != b.instances || a.bytes != b.bytes) {
                d.put(e.getKey(), new Entry(a.instances - b.instances, a.bytes - b.bytes));
            }
        }
        for (Map.Entry<String, Entry> e : before.entrySet()) {
            if (!after.containsKey(e.getKey())) {
                d.put(e.getKey(), new Entry(-e.getValue().instances, -e.getValue().bytes));
            }
        }
        return d;
    }

    private static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    private static ObjectName name() throws Exception {
        return new ObjectName("com.sun.management:type=DiagnosticCommand");
    }
}
