package io.github.rseq4j.stress;

import io.github.rseq4j.PerCpuBufferPool;
import io.github.rseq4j.Pool;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link PerCpuBufferPool} through its public API (see {@link PooledScenario}). The
 * holder puts its mark ({@link PooledScenario#mark}) into the buffer's first word with a
 * CAS from free (a CAS that fails means the buffer is held already) and fills the rest of
 * the buffer with words derived from that mark; before the release it checks that every
 * word is still its own and frees the first word with a CAS. A buffer that two holders
 * use at once shows either way.
 */
final class BufferPoolScenario extends PooledScenario<MemorySegment> {
    static final int BUFFER_SIZE = 256;

    BufferPoolScenario(Run run) {
        super(run);
    }

    private static long stamp(long mark, long k) {
        return mark * 0x9E3779B97F4A7C15L + k;
    }

    @Override
    Pool<MemorySegment> newPool(int capacity) {
        return new PerCpuBufferPool(BUFFER_SIZE, capacity);
    }

    @Override
    String noun() {
        return "buffer";
    }

    private static String name(MemorySegment b) {
        return "buffer 0x" + Long.toHexString(b.address());
    }

    @Override
    String claim(MemorySegment b, int w, long rep) {
        if (b.byteSize() != BUFFER_SIZE) {
            throw run.abort("worker " + w + ": acquired a buffer of " + b.byteSize() + " bytes, not " + BUFFER_SIZE);
        }
        long mine = mark(w, rep);
        long found = (long) LONG.compareAndExchange(b, 0L, FREE, mine);
        String problem = null;
        if (found != FREE) {
            LONG.setVolatile(b, 0L, mine);
            problem = "acquired " + name(b) + " while " + who(found) + " held it";
        }
        for (long k = 1; k < BUFFER_SIZE / 8; k++) {
            b.set(ValueLayout.JAVA_LONG, 8 * k, stamp(mine, k));
        }
        return problem;
    }

    @Override
    String unclaim(MemorySegment b, int w, long rep) {
        long mine = mark(w, rep);
        for (long k = 1; k < BUFFER_SIZE / 8; k++) {
            long v = b.get(ValueLayout.JAVA_LONG, 8 * k);
            if (v != stamp(mine, k)) {
                return name(b) + " overwritten while it was held (word " + k + ")";
            }
        }
        long found = (long) LONG.compareAndExchange(b, 0L, mine, FREE);
        if (found != mine) {
            return name(b) + " taken over by " + (found == FREE ? "a release" : who(found)) + " while it was held";
        }
        return null;
    }
}
