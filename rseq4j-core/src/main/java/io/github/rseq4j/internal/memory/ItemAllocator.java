package io.github.rseq4j.internal.memory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out offsets inside a slice: the same offset is the item in every slice.
 * Bump allocation, with exact-size free lists for reuse. Not thread-safe: callers lock.
 */
final class ItemAllocator {
    private final long start;
    private final long end;
    private long next;
    private final Map<Long, Long> sizes = new HashMap<>();
    private final TreeMap<Long, ArrayDeque<Long>> free = new TreeMap<>();

    ItemAllocator(long start, long end) {
        this.start = start;
        this.end = end;
        this.next = start;
    }

    /**
     * An offset for {@code bytes} (multiple of 8) aligned to {@code alignment}, or -1 when
     * full. With {@code reuse} false the offset is fresh: never held by a freed item.
     */
    long allocate(long bytes, long alignment, boolean reuse) {
        ArrayDeque<Long> list = reuse ? free.get(bytes) : null;
        if (list != null) {
            for (var it = list.iterator(); it.hasNext(); ) {
                long off = it.next();
                if (off % alignment == 0) {
                    it.remove();
                    sizes.put(off, bytes);
                    return off;
                }
            }
        }
        long off = (next + alignment - 1) & -alignment;
        if (off + bytes > end) {
            return -1;
        }
        next = off + bytes;
        sizes.put(off, bytes);
        return off;
    }

    /** Size of the live item at {@code offset}, or -1. */
    long sizeOf(long offset) {
        Long s = sizes.get(offset);
        return s == null ? -1 : s;
    }

    /** Frees a live item; returns its size, or -1 when there is none at that offset. */
    long free(long offset) {
        Long s = sizes.remove(offset);
        if (s == null) {
            return -1;
        }
        free.computeIfAbsent(s, k -> new ArrayDeque<>()).push(offset);
        return s;
    }

    int liveItems() {
        return sizes.size();
    }

    long start() {
        return start;
    }

    /** The end of the space (exclusive). */
    long end() {
        return end;
    }
}
