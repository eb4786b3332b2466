package io.github.rseq4j.stress;

import io.github.rseq4j.PerCpuPool;
import io.github.rseq4j.Pool;

import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link PerCpuPool} through its public API (see {@link PooledScenario}). Each object
 * carries an "in use" mark ({@link PooledScenario#mark}), set with a CAS from free on
 * acquire (a CAS that fails means the object is held already) and changed
 * back with a CAS before release (a CAS that fails means someone else took it meanwhile).
 */
final class PoolScenario extends PooledScenario<PoolScenario.Item> {
    /** A pooled object: its number and its "in use" mark. */
    static final class Item {
        final int id;
        final AtomicLong holder = new AtomicLong(FREE);

        Item(int id) {
            this.id = id;
        }
    }

    PoolScenario(Run run) {
        super(run);
    }

    @Override
    Pool<Item> newPool(int capacity) {
        AtomicLong made = new AtomicLong();
        return new PerCpuPool<>(() -> new Item((int) made.getAndIncrement()), capacity);
    }

    @Override
    String noun() {
        return "object";
    }

    @Override
    String claim(Item item, int w, long rep) {
        long mine = mark(w, rep);
        long found = item.holder.compareAndExchange(FREE, mine);
        if (found == FREE) {
            return null;
        }
        item.holder.set(mine);
        return "acquired object " + item.id + " while " + who(found) + " held it";
    }

    @Override
    String unclaim(Item item, int w, long rep) {
        long found = item.holder.compareAndExchange(mark(w, rep), FREE);
        if (found == mark(w, rep)) {
            return null;
        }
        return "object " + item.id + " taken over by " + (found == FREE ? "a release" : who(found))
                + " while it was held";
    }
}
