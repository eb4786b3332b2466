package io.github.rseq4j.jackson;

import io.github.rseq4j.PerCpuObjectCache;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Jackson line (2 or 3) as the tests drive it: a mapper over a per-CPU pool behind a
 * checking pool that marks each recycler in use while a parser or generator holds it. What
 * the tests read of the pool (its count, bound and cache) is the lines' common base class's,
 * so it is here once; each line adds its mapper and its checking pool.
 */
abstract class JacksonLine {
    /** The per-CPU pool under test, through the base class both lines' pools share. */
    private final PerCpuRecyclerPoolBase<?> pool;
    /** Recyclers handed out and not yet given back, by identity (BufferRecycler keeps Object's equals). */
    final Set<Object> inUse = ConcurrentHashMap.newKeySet();
    final AtomicLong violations = new AtomicLong();
    final AtomicLong acquires = new AtomicLong();
    final AtomicLong releases = new AtomicLong();

    JacksonLine(PerCpuRecyclerPoolBase<?> pool) {
        this.pool = pool;
    }

    abstract String name();

    abstract byte[] write(Doc doc) throws Exception;

    abstract Doc read(byte[] json) throws Exception;

    /** The pool's own count. */
    final int pooledCount() {
        return pool.pooledCount();
    }

    /** CPUs x per-CPU capacity. */
    final int bound() {
        return pool.cache().capacity();
    }

    final PerCpuObjectCache<?> cache() {
        return pool.cache();
    }

    /** Called by the checking pool when it hands out {@code r}. */
    void marked(Object r, boolean linked) {
        acquires.incrementAndGet();
        if (linked || !inUse.add(r)) {
            violations.incrementAndGet(); // handed out while another parser or generator holds it
        }
    }

    /** Called by the checking pool when {@code r} comes back. */
    void unmarked(Object r) {
        releases.incrementAndGet();
        if (!inUse.remove(r)) {
            violations.incrementAndGet(); // given back while not out
        }
    }

    @Override
    public String toString() {
        return name();
    }

    static JacksonLine jackson2(int perCpuCapacity) {
        return new Jackson2Line(new Jackson2PerCpuRecyclerPool(perCpuCapacity));
    }

    static JacksonLine jackson3(int perCpuCapacity) {
        return new Jackson3Line(new Jackson3PerCpuRecyclerPool(perCpuCapacity));
    }

    static final class Jackson2Line extends JacksonLine {
        final com.fasterxml.jackson.databind.ObjectMapper mapper;

        Jackson2Line(Jackson2PerCpuRecyclerPool pool) {
            super(pool);
            Jackson2Line line = this;
            com.fasterxml.jackson.core.util.RecyclerPool<com.fasterxml.jackson.core.util.BufferRecycler> checking =
                    new com.fasterxml.jackson.core.util.RecyclerPool<>() {
                        @Override
                        public com.fasterxml.jackson.core.util.BufferRecycler acquirePooled() {
                            var r = pool.acquirePooled();
                            line.marked(r, r.isLinkedWithPool());
                            return r;
                        }

                        @Override
                        public void releasePooled(com.fasterxml.jackson.core.util.BufferRecycler r) {
                            line.unmarked(r);
                            pool.releasePooled(r);
                        }

                        @Override
                        public int pooledCount() {
                            return pool.pooledCount();
                        }
                    };
            this.mapper = new com.fasterxml.jackson.databind.ObjectMapper(
                    com.fasterxml.jackson.core.JsonFactory.builder().recyclerPool(checking).build());
        }

        @Override
        String name() {
            return "Jackson 2";
        }

        @Override
        byte[] write(Doc doc) throws Exception {
            return mapper.writeValueAsBytes(doc);
        }

        @Override
        Doc read(byte[] json) throws Exception {
            return mapper.readValue(json, Doc.class);
        }
    }

    static final class Jackson3Line extends JacksonLine {
        final tools.jackson.databind.json.JsonMapper mapper;

        Jackson3Line(Jackson3PerCpuRecyclerPool pool) {
            super(pool);
            Jackson3Line line = this;
            tools.jackson.core.util.RecyclerPool<tools.jackson.core.util.BufferRecycler> checking =
                    new tools.jackson.core.util.RecyclerPool<>() {
                        @Override
                        public tools.jackson.core.util.BufferRecycler acquirePooled() {
                            var r = pool.acquirePooled();
                            line.marked(r, r.isLinkedWithPool());
                            return r;
                        }

                        @Override
                        public void releasePooled(tools.jackson.core.util.BufferRecycler r) {
                            line.unmarked(r);
                            pool.releasePooled(r);
                        }

                        @Override
                        public int pooledCount() {
                            return pool.pooledCount();
                        }
                    };
            this.mapper = tools.jackson.databind.json.JsonMapper.builder(
                    tools.jackson.core.json.JsonFactory.builder().recyclerPool(checking).build()).build();
        }

        @Override
        String name() {
            return "Jackson 3";
        }

        @Override
        byte[] write(Doc doc) {
            return mapper.writeValueAsBytes(doc);
        }

        @Override
        Doc read(byte[] json) {
            return mapper.readValue(json, Doc.class);
        }
    }
}
