package io.github.rseq4j.cli;

import java.util.Collection;
import java.util.TreeSet;

/** CPU numbers written the way the kernel writes CPU lists: {@code 0-3,8,10-11}. */
final class CpuRanges {

    private CpuRanges() {
    }

    static String format(Collection<Integer> cpus) {
        if (cpus.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        int start = -1;
        int prev = -2;
        for (int cpu : new TreeSet<>(cpus)) {
            if (cpu != prev + 1) {
                flush(sb, start, prev);
                start = cpu;
            }
            prev = cpu;
        }
        flush(sb, start, prev);
        return sb.toString();
    }

    private static void flush(StringBuilder sb, int start, int end) {
        if (start < 0) {
            return;
        }
        if (!sb.isEmpty()) {
            sb.append(',');
        }
        sb.append(start);
        if (end > start) {
            sb.append('-').append(end);
        }
    }
}
