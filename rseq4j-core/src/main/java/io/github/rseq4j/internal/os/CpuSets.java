package io.github.rseq4j.internal.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** CPU lists and masks: /sys CPU lists, and the calling thread's affinity. */
public final class CpuSets {
    private CpuSets() {}

    /**
     * Parses a kernel CPU list such as {@code 0-3,8,10-11}.
     *
     * @param text the list as the kernel writes it in /sys (surrounding white space is
     *             ignored; empty means no CPU)
     * @return the CPU numbers in the order the list gives them
     * @throws IllegalArgumentException on a malformed list
     */
    public static List<Integer> parseList(String text) {
        List<Integer> cpus = new ArrayList<>();
        String t = text.strip();
        if (t.isEmpty()) {
            return cpus;
        }
        for (String part : t.split(",")) {
            String[] range = part.split("-");
            try {
                int lo = Integer.parseInt(range[0].strip());
                int hi = range.length == 2 ? Integer.parseInt(range[1].strip()) : lo;
                if (range.length > 2 || lo < 0 || hi < lo) {
                    throw new IllegalArgumentException("bad CPU range: " + part);
                }
                for (int c = lo; c <= hi; c++) {
                    cpus.add(c);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list: " + text, e);
            }
        }
        return cpus;
    }

    /**
     * Possible CPUs from /sys/devices/system/cpu/possible; where that is unreadable or
     * empty, 0 up to the highest of the processor count and the CPUs this thread may use.
     *
     * @return the possible CPU numbers, ascending
     */
    public static List<Integer> possible() {
        try {
            List<Integer> l = parseList(Files.readString(Path.of("/sys/devices/system/cpu/possible")));
            if (!l.isEmpty()) {
                return l;
            }
        } catch (IOException | IllegalArgumentException e) {
            // fall through
        }
        int n = Runtime.getRuntime().availableProcessors();
        try {
            List<Integer> allowed = allowed();
            if (!allowed.isEmpty()) {
                n = Math.max(n, allowed.getLast() + 1);
            }
        } catch (RuntimeException | LinkageError e) {
            // no affinity call: the processor count is all there is
        }
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        return l;
    }

    /**
     * The CPUs the calling OS thread may run on (sched_getaffinity).
     *
     * @return the CPU numbers in the thread's affinity mask, ascending
     * @throws IllegalStateException when sched_getaffinity fails
     */
    public static List<Integer> allowed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(Libc.CPU_MASK_BYTES, 8);
            int r = Libc.schedGetaffinity(mask);
            if (r != 0) {
                throw new IllegalStateException("sched_getaffinity failed, errno " + -r);
            }
            List<Integer> cpus = new ArrayList<>();
            for (int i = 0; i < Libc.CPU_MASK_BYTES * 8; i++) {
                if ((mask.get(ValueLayout.JAVA_BYTE, i >> 3) & (1 << (i & 7))) != 0) {
                    cpus.add(i);
                }
            }
            return cpus;
        }
    }

    /**
     * Restricts the calling OS thread to {@code cpus}. For a virtual thread this changes
     * its current carrier, which is rarely what anyone wants: callers pin platform threads.
     *
     * @param cpus the CPUs the thread may run on from now on
     * @return 0 or -errno
     * @throws IllegalArgumentException when a CPU number does not fit the affinity mask
     */
    public static int setAffinity(List<Integer> cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(Libc.CPU_MASK_BYTES, 8);
            for (int c : cpus) {
                if (c < 0 || c >= Libc.CPU_MASK_BYTES * 8) {
                    throw new IllegalArgumentException("CPU out of range: " + c);
                }
                int b = c >> 3;
                mask.set(ValueLayout.JAVA_BYTE, b, (byte) (mask.get(ValueLayout.JAVA_BYTE, b) | (1 << (c & 7))));
            }
            return Libc.schedSetaffinity(mask);
        }
    }
}
