package io.github.rseq4j.stress;

import io.github.rseq4j.Lease;
import io.github.rseq4j.Pool;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A public pool ({@code PerCpuPool}, {@code PerCpuBufferPool}) through its public API.
 * Each operation takes an item in one of the three ways, in turn: {@code acquire()} (null
 * when every item is out), {@code acquire(Duration)} (waits up to {@value #WAIT_MILLIS} ms,
 * so items are also handed over to waiters) and {@code lease()} (throws when every item is
 * out). The holder claims the item ({@link #claim}: fails when another holder's claim is
 * on it, i.e. the pool handed out an item that was not free), holds it across the pause,
 * checks that its claim is intact ({@link #unclaim}) and gives it back
 * ({@code release}, or closing the lease). The pool holds about half as many items as
 * there are workers, so acquires also find it exhausted. A background thread calls
 * {@code rebalance()} all along.
 *
 * <p>Checks: no item held twice; as many releases as acquires; every acquire either took
 * an item or found none, once per operation; every item back at the end
 * ({@code available() == capacity()}).
 *
 * @param <T> the pooled item
 */
abstract class PooledScenario<T> extends Scenario {
    static final long WAIT_MILLIS = 20;
    private static final Duration WAIT = Duration.ofMillis(WAIT_MILLIS);
    /** How long a worker making {@link Fault#EARLY_RELEASE} waits for another holder at most. */
    private static final long FAULT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long REBALANCE_PAUSE_NANOS = 200_000;

    private long[] acquires;
    private long[] releases;
    private long[] misses;
    private final AtomicLong violations = new AtomicLong();
    private final AtomicReference<String> firstViolation = new AtomicReference<>();
    /** Items kept by {@link Fault#LEAK} (worker 0 only). */
    private final List<T> leaked = new ArrayList<>();
    // rebalancer state (background thread, then verify())
    private long rebalances;
    private long moved;

    PooledScenario(Run run) {
        super(run);
    }

    /** The mark of a free item. */
    static final long FREE = 0;
    private static final long REP_BITS = (1L << 40) - 1;

    /**
     * The mark of worker {@code w}'s hold in operation {@code rep}: both numbers, so that a
     * stale mark differs from a fresh one; never {@link #FREE}.
     */
    static long mark(int w, long rep) {
        return (long) (w + 1) << 40 | (rep & REP_BITS);
    }

    /** Whose mark {@code mark} is, for messages. */
    static String who(long mark) {
        return "worker " + ((mark >>> 40) - 1) + " (operation " + (mark & REP_BITS) + ")";
    }

    /** The pool's size for {@code threads} workers: about half as many items. */
    static int capacity(int threads) {
        return Math.max(2, (threads + 1) / 2);
    }

    // ---------------------------------------------------------------- the pool

    /** The pool under test, made by {@link #newPool} in {@link #setUp}. */
    Pool<T> pool;

    /** A new pool of {@code capacity} items. */
    abstract Pool<T> newPool(int capacity);

    /** What to call the items in messages: "object", "buffer". */
    abstract String noun();

    /**
     * Marks {@code item} as held by worker {@code w} (operation {@code rep}). Returns null,
     * or what shows that someone else holds it (the mark is then taken over).
     */
    abstract String claim(T item, int w, long rep);

    /**
     * Checks that {@code item} still carries worker {@code w}'s mark from operation
     * {@code rep} and marks it free. Returns null, or what shows that someone else held it.
     */
    abstract String unclaim(T item, int w, long rep);

    // ---------------------------------------------------------------- the scenario

    @Override
    void setUp() {
        int threads = run.config.threads();
        pool = newPool(capacity(threads));
        acquires = new long[threads];
        releases = new long[threads];
        misses = new long[threads];
    }

    @Override
    void tearDown() {
        pool.close();
    }

    @Override
    Set<Fault> faults() {
        return Set.of(Fault.EARLY_RELEASE, Fault.LEAK);
    }

    @Override
    long expected() {
        return pool.capacity();
    }

    @Override
    void operate(Worker w, long rep) {
        boolean early = injects(Fault.EARLY_RELEASE, w, rep);
        boolean leak = injects(Fault.LEAK, w, rep);
        T item;
        Lease<T> lease = null;
        // the faults wait for an item, so that they surely happen
        int way = early || leak ? 1 : (int) (rep % 3);
        try {
            switch (way) {
                case 0 -> item = pool.acquire();
                case 1 -> item = pool.acquire(early || leak ? Duration.ofNanos(FAULT_WAIT_NANOS) : WAIT);
                default -> {
                    try {
                        lease = pool.lease();
                        item = lease.get();
                    } catch (NoSuchElementException e) {
                        item = null;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw run.abort("worker " + w.index + " interrupted");
        }
        if (item == null) {
            misses[w.index]++;
            w.pauseIfDue(rep);
            return;
        }
        acquires[w.index]++;
        violation(w, claim(item, w.index, rep));
        if (early) {
            releaseEarly(w, item, rep);
            return;
        }
        w.pauseIfDue(rep);
        violation(w, unclaim(item, w.index, rep));
        if (leak) {
            leaked.add(item); // never given back: the pool must come out one short
            return;
        }
        if (lease != null) {
            lease.close();
        } else {
            pool.release(item);
        }
        releases[w.index]++;
    }

    /**
     * {@link Fault#EARLY_RELEASE}: gives the item back with this worker's mark still on it,
     * then waits (holding it, as far as this worker knows) until another holder has run
     * into the mark.
     */
    private void releaseEarly(Worker w, T item, long rep) {
        pool.release(item);
        releases[w.index]++;
        long until = System.nanoTime() + FAULT_WAIT_NANOS;
        while (violations.get() == 0 && System.nanoTime() - until < 0) {
            run.check();
            Thread.yield();
        }
    }

    private void violation(Worker w, String problem) {
        if (problem != null) {
            violations.incrementAndGet();
            firstViolation.compareAndSet(null, "worker " + w.index + ": " + problem);
        }
    }

    @Override
    Runnable background() {
        return whileWorkersRun(() -> {
            moved += pool.rebalance();
            rebalances++;
            LockSupport.parkNanos(REBALANCE_PAUSE_NANOS);
        });
    }

    @Override
    Verdict verify() {
        long a = sum(acquires);
        long r = sum(releases);
        long miss = sum(misses);
        long free = pool.available();
        Verdict.Builder v = Verdict.builder()
                .detail("acquires", a).detail("releases", r).detail("misses", miss)
                .detail("rebalances", rebalances).detail("moved", moved).detail("violations", violations.get());
        v.check(violations.get() == 0, violations.get() + " " + noun() + "s held twice at once (first: "
                + firstViolation.get() + ")");
        if (run.unwound()) {
            // workers that ended early may hold items: not lost, in flight
            v.detail("conservation", "not checked (" + (a - r) + " " + noun() + "s in flight)");
            return v.build(free + (a - r));
        }
        v.check(a == r, "acquires " + a + " != releases " + r + " (" + (a - r) + " " + noun() + "s never given back)");
        v.check(a + miss == operations(), "acquires " + a + " + misses " + miss + " != operations " + operations());
        v.check(free == pool.capacity(), (pool.capacity() - free) + " of " + pool.capacity() + " " + noun()
                + "s not back in the pool at the end (available " + free + ")");
        return v.build(free);
    }
}
