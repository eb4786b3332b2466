package io.github.rseq4j.jackson;

import io.github.rseq4j.Rseq;
import io.github.rseq4j.testsupport.Pinned;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What Jackson expects of a {@code RecyclerPool} (neither jackson-core publishes its own
 * pool tests, so these follow what its {@code BufferRecyclerPoolTest} and serialization
 * tests check of the built-in pools): the factory uses the pool it was given; a recycler a
 * generator gave back is the one the next acquire on that CPU gets; a linked recycler
 * cannot be linked twice; {@code pooledCount} and {@code clear} report the pool's state;
 * the shared pool deserializes to itself and another pool to an equivalent one.
 */
class RecyclerPoolContractTest {

    private static int firstCpu() {
        return Rseq.status().thread().allowedCpus().getFirst();
    }

    @Test
    void jackson2FactoryUsesThePoolAndGetsTheSameRecyclerBack() throws Throwable {
        Pinned.run(firstCpu(), () -> {
            Jackson2PerCpuRecyclerPool pool = new Jackson2PerCpuRecyclerPool(2);
            com.fasterxml.jackson.core.JsonFactory f = com.fasterxml.jackson.core.JsonFactory.builder().recyclerPool(pool).build();
            assertSame(pool, f._getRecyclerPool());
            var r = f._getBufferRecycler();
            assertTrue(r.isLinkedWithPool());
            assertThrows(IllegalStateException.class, () -> r.withPool(pool), "a linked recycler cannot be linked again");
            r.releaseToPool();
            assertEquals(1, pool.pooledCount());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (var g = f.createGenerator(out)) {
                g.writeString("test");
            }
            assertEquals("\"test\"", out.toString());
            assertEquals(1, pool.pooledCount(), "the generator took the pooled recycler and gave it back");
            var again = f._getBufferRecycler();
            assertSame(r, again, "the same CPU gets the same recycler back");
            assertEquals(0, pool.pooledCount());
            again.releaseToPool();
            again.releaseToPool(); // unlinked now: a second release does nothing
            assertEquals(1, pool.pooledCount());
            assertTrue(pool.clear());
            assertEquals(0, pool.pooledCount());
            assertNotSame(r, f._getBufferRecycler(), "cleared: a new recycler");
        });
    }

    @Test
    void jackson3FactoryUsesThePoolAndGetsTheSameRecyclerBack() throws Throwable {
        Pinned.run(firstCpu(), () -> {
            Jackson3PerCpuRecyclerPool pool = new Jackson3PerCpuRecyclerPool(2);
            tools.jackson.core.json.JsonFactory f = tools.jackson.core.json.JsonFactory.builder().recyclerPool(pool).build();
            assertSame(pool, f._getRecyclerPool());
            var r = f._getBufferRecycler();
            assertTrue(r.isLinkedWithPool());
            assertThrows(IllegalStateException.class, () -> r.withPool(pool), "a linked recycler cannot be linked again");
            r.releaseToPool();
            assertEquals(1, pool.pooledCount());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (var g = f.createGenerator(tools.jackson.core.ObjectWriteContext.empty(), out)) {
                g.writeString("test");
            }
            assertEquals("\"test\"", out.toString());
            assertEquals(1, pool.pooledCount(), "the generator took the pooled recycler and gave it back");
            var again = f._getBufferRecycler();
            assertSame(r, again, "the same CPU gets the same recycler back");
            again.releaseToPool();
            again.releaseToPool();
            assertEquals(1, pool.pooledCount());
            assertTrue(pool.clear());
            assertEquals(0, pool.pooledCount());
        });
    }

    @Test
    void poolsAreSerializableLikeJacksonsOwn() throws Exception {
        assertSame(PerCpuRecyclerPools.forJackson2(), roundTrip(PerCpuRecyclerPools.forJackson2()));
        assertSame(PerCpuRecyclerPools.forJackson3(), roundTrip(PerCpuRecyclerPools.forJackson3()));
        Jackson2PerCpuRecyclerPool own2 = new Jackson2PerCpuRecyclerPool(5);
        own2.releasePooled(own2.acquirePooled());
        Jackson2PerCpuRecyclerPool copy2 = (Jackson2PerCpuRecyclerPool) roundTrip(own2);
        assertNotSame(own2, copy2);
        assertNotSame(PerCpuRecyclerPools.forJackson2(), copy2);
        assertEquals(5, copy2.perCpuCapacity());
        assertEquals(0, copy2.pooledCount(), "a deserialized pool starts empty");
        copy2.releasePooled(copy2.acquirePooled());
        assertEquals(1, copy2.pooledCount(), "and works");
        Jackson3PerCpuRecyclerPool copy3 = (Jackson3PerCpuRecyclerPool) roundTrip(new Jackson3PerCpuRecyclerPool(3));
        assertEquals(3, copy3.perCpuCapacity());
        // a factory with the pool serializes too (Jackson 2's JsonFactory is Serializable)
        var f = com.fasterxml.jackson.core.JsonFactory.builder().recyclerPool(PerCpuRecyclerPools.forJackson2()).build();
        var g = (com.fasterxml.jackson.core.JsonFactory) roundTrip(f);
        assertSame(PerCpuRecyclerPools.forJackson2(), g._getRecyclerPool());
    }

    @Test
    void sharedPoolsHaveTheDefaultCapacityAndBadCapacitiesAreRejected() {
        assertSame(PerCpuRecyclerPools.forJackson2(), PerCpuRecyclerPools.forJackson2());
        assertEquals(PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY, PerCpuRecyclerPools.forJackson2().perCpuCapacity());
        assertEquals(PerCpuRecyclerPools.DEFAULT_PER_CPU_CAPACITY, PerCpuRecyclerPools.forJackson3().perCpuCapacity());
        assertThrows(IllegalArgumentException.class, () -> new Jackson2PerCpuRecyclerPool(0));
        assertThrows(IllegalArgumentException.class, () -> new Jackson3PerCpuRecyclerPool(-1));
    }

    private static Object roundTrip(Object o) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return in.readObject();
        }
    }
}
