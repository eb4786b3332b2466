package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.memory.SliceList;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;


import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine of {@code PerCpuPool} and {@code PerCpuBufferPool}: a pool of slot numbers
 * {@code 0 <= slot < capacity} with a per-CPU cache, a shared depot, and lazy first use.
 * What a slot stands for (an object, a buffer) is the caller's business.
 *
 * <p>Implementation notes.
 * <ul>
 * <li>Per-CPU cache: a {@link SliceList} (rseq push and ABA-free pop on the caller's CPU,
 *     no atomic instruction) of nodes whose 8-byte payload is the slot number. Each slot
 *     has one node, made the first time the slot is released, so a slot is in at most one
 *     place at a time.</li>
 * <li>Per-CPU count: a word per CPU in the same per-CPU memory, +1 after a push and -1
 *     after a pop (each a critical section of its own, on the CPU the thread is on at that
 *     moment). The two are not one critical section, so a thread migrated between them
 *     moves one unit of count to the wrong CPU: the counts are a heuristic for "this CPU's
 *     cache is full" and for choosing where to steal from, never trusted for correctness.
 *     Drift is repaired where it matters: {@link #rebalance()} counts every slice exactly
 *     (under stop), and a spill that finds fewer nodes than the count claimed recounts its
 *     slice. Whether a slice is empty is read from its list head, never from its count.</li>
 * <li>Depot: an array stack of slot numbers under a lock. A release that finds its CPU's
 *     count above the per-CPU limit moves half a cache's worth from its CPU to the depot;
 *     an acquire that finds its CPU's cache empty takes a batch from the depot (one for the
 *     caller, the rest pushed on its CPU). Then slots never used yet; then stealing: the
 *     non-empty slice with the highest count is stopped ({@code PerCpuMemory.stop}, which
 *     fences its CPU), a batch is popped from it with plain accesses, and it is restarted.
 *     Slices whose list head reads empty are not stopped, so polling an exhausted pool
 *     costs no fences.</li>
 * <li>State: one int per slot, {@link #IN_USE} or {@link #FREE}. A release changes it
 *     with a CAS, so a slot released twice (even by two threads at once) is reported, and
 *     its node is never pushed twice. An acquire sets it with a release store: the slot
 *     came from a pop, the depot or the fresh counter, which already give it to one
 *     thread only.</li>
 * </ul>
 *
 * <p>Memory ordering: a push commits with a release store and a pop reads the pushed
 * node, so what the releasing thread wrote to a slot's object happens-before the next
 * acquirer's use on the rseq path; the depot's lock and the stop protocol give the same
 * on the other paths.
 */
public final class SlotPool {
    /** Slot state: in a cache, in the depot, or never used. */
    public static final int FREE = 0;
    /** Slot state: handed out. */
    public static final int IN_USE = 1;

    /** Largest capacity. */
    public static final int MAX_CAPACITY = 1 << 26;

    private final String owner;
    private final int capacity;
    private final int perCpuLimit;
    private final int batch;
    private final SliceMemory memory;
    private final SliceList cache;
    /** Offset of the per-CPU count word. */
    private final long counts;
    private final long[] nodes;
    private final Object nodeLock = new Object();
    private final AtomicIntegerArray state;
    private final AtomicInteger fresh = new AtomicInteger();
    private final ReentrantLock depotLock = new ReentrantLock();
    private final int[] depot;
    private int depotSize;
    private volatile boolean closed;

    /**
     * @param owner        names the pool in exception messages
     * @param capacity     number of slots
     * @param perCpuLimit  slots a CPU's cache may hold before it spills to the depot; 0 for
     *                     the default
     */
    public SlotPool(String owner, int capacity, int perCpuLimit) {
        if (capacity <= 0 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be 1 to " + MAX_CAPACITY + ": " + capacity);
        }
        if (perCpuLimit < 0) {
            throw new IllegalArgumentException("per-CPU capacity must be >= 1 (or 0 for the default): " + perCpuLimit);
        }
        this.owner = owner;
        this.capacity = capacity;
        this.memory = new SliceMemory(IndexField.CPU_ID);
        this.perCpuLimit = perCpuLimit > 0 ? perCpuLimit : defaultPerCpuLimit(capacity, memory.slices());
        this.batch = Math.max(1, this.perCpuLimit / 2);
        this.cache = new SliceList(memory, SliceOps.DEFAULT, 8);
        this.counts = memory.allocateFresh(8, 8);
        this.nodes = new long[capacity];
        this.state = new AtomicIntegerArray(capacity);
        this.depot = new int[capacity];
    }

    /** Default per-CPU limit: a fair share of the capacity, between 4 and 256. */
    static int defaultPerCpuLimit(int capacity, int slices) {
        return Math.clamp(capacity / Math.max(1, slices), 4, 256);
    }

    public int capacity() {
        return capacity;
    }

    public int perCpuLimit() {
        return perCpuLimit;
    }

    /** Slots used at least once. */
    public int used() {
        return Math.min(fresh.get(), capacity);
    }

    public boolean isClosed() {
        return closed;
    }

    public void checkOpen() {
        if (closed) {
            throw new IllegalStateException(owner + " is closed");
        }
    }

    /** Forbids further use. */
    public void close() {
        closed = true;
        memory.close();
    }

    /** Whether {@code slot} is handed out now. */
    public boolean inUse(int slot) {
        return state.get(slot) == IN_USE;
    }

    // ------------------------------------------------------------------ acquire

    /**
     * Takes a free slot for the caller, in this order: the calling CPU's cache, the depot,
     * a slot never used before, another CPU's cache. Returns the slot, or -1 when none was
     * found (under concurrent releases an acquire may miss a slot being released at the
     * same moment).
     */
    public int acquire() {
        checkOpen();
        long n = cache.pop();
        if (n >= 0) {
            addCount(-1);
            return take((int) SliceList.payloadWord(n));
        }
        return acquireSlow();
    }

    /**
     * As {@link #acquire()}, waiting up to {@code timeout} for a slot (spinning briefly,
     * then yielding, then parking for growing intervals up to a millisecond). Returns -1
     * on timeout.
     */
    public int acquire(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        int s = acquire();
        if (s >= 0 || nanos <= 0) {
            return s;
        }
        long deadline = System.nanoTime() + nanos;
        for (int round = 0; ; round++) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return -1;
            }
            if (round < 16) {
                Thread.onSpinWait();
            } else if (round < 32) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(Math.min(left, 1_000L << Math.min(10, round - 32)));
            }
            if ((s = acquire()) >= 0) {
                return s;
            }
        }
    }

    private int take(int slot) {
        state.setRelease(slot, IN_USE);
        return slot;
    }

    private int acquireSlow() {
        int s = fromDepot();
        if (s >= 0) {
            return s;
        }
        s = fromFresh();
        if (s >= 0) {
            return s;
        }
        return steal();
    }

    private int fromFresh() {
        for (int f; (f = fresh.get()) < capacity; ) {
            if (fresh.compareAndSet(f, f + 1)) {
                return take(f);
            }
        }
        return -1;
    }

    /** One slot from the depot for the caller, and up to a batch more onto its CPU. */
    private int fromDepot() {
        int[] got;
        depotLock.lock();
        try {
            if (depotSize == 0) {
                return -1;
            }
            int k = Math.min(batch, depotSize);
            got = Arrays.copyOfRange(depot, depotSize - k, depotSize);
            depotSize -= k;
        } finally {
            depotLock.unlock();
        }
        for (int i = 1; i < got.length; i++) {
            pushLocal(got[i]);
        }
        return take(got[0]);
    }

    /**
     * Steals a batch from the slice that seems fullest (then from the others): one slot
     * for the caller, the rest to the depot. Slices whose list head is empty are skipped
     * without stopping them, so an exhausted pool costs no fences. -1 when every slice is
     * empty.
     */
    private int steal() {
        int slices = memory.slices();
        long[] c = new long[slices];
        Integer[] order = new Integer[slices];
        for (int i = 0; i < slices; i++) {
            c[i] = count(i);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(c[b], c[a]));
        for (int i : order) {
            if (cache.isEmpty(i)) {
                continue;
            }
            int[] got = popStopped(i, batch);
            if (got.length > 0) {
                toDepot(got, 1, got.length);
                return take(got[0]);
            }
        }
        return -1;
    }

    /** Stops slice {@code index}, pops up to {@code max} slots with plain accesses, restarts it. */
    private int[] popStopped(int index, int max) {
        memory.stop(index);
        try {
            return popStoppedSlots(index, max);
        } finally {
            memory.start(index);
        }
    }

    // ------------------------------------------------------------------ release

    /**
     * Gives {@code slot} back.
     *
     * @throws IllegalStateException when it is not handed out (released twice), or the
     *                               pool is closed
     */
    public void release(int slot) {
        checkOpen();
        if (!state.compareAndSet(slot, IN_USE, FREE)) {
            throw new IllegalStateException(owner + ": released twice (or never acquired)");
        }
        int cpu = pushLocal(slot);
        if (count(cpu) > perCpuLimit) {
            spill(cpu);
        }
    }

    /** Pushes a free slot's node on the caller's CPU and counts it; returns the slice. */
    private int pushLocal(int slot) {
        int cpu = cache.push(node(slot));
        addCount(1);
        return cpu;
    }

    private long node(int slot) {
        long n = nodes[slot];
        if (n == 0) {
            synchronized (nodeLock) {
                n = nodes[slot];
                if (n == 0) {
                    n = cache.newNode();
                    SliceList.setPayloadWord(n, slot);
                    nodes[slot] = n;
                }
            }
        }
        return n;
    }

    /** Adds {@code delta} to the calling CPU's count word. */
    private void addCount(long delta) {
        SliceOps.DEFAULT.add(memory, counts, delta);
    }

    /** Slice {@code index}'s count word (acquire load). */
    private long count(int index) {
        return SliceOps.getAcquire(memory, index, counts);
    }

    /** Sets slice {@code index}'s count word; the caller holds the slice stopped. */
    private void setCountStopped(int index, long value) {
        memory.whole().set(ValueLayout.JAVA_LONG, SliceMemory.at(index, counts), value);
    }

    /**
     * Moves a batch from the caller's CPU to the depot. Called when slice {@code full}
     * counts more than the limit; if its list turns out shorter than a batch, the count
     * had drifted (see the class notes), and the slice is recounted.
     */
    private void spill(int full) {
        int[] got = new int[batch];
        int k = 0;
        for (long n; k < batch && (n = cache.pop()) >= 0; ) {
            addCount(-1);
            got[k++] = (int) SliceList.payloadWord(n);
        }
        toDepot(got, 0, k);
        if (k < batch) {
            memory.stop(full);
            try {
                recountStopped(full);
            } finally {
                memory.start(full);
            }
        }
    }

    /**
     * Counts slice {@code index}'s list exactly (the caller has stopped it): pops every
     * node and pushes them back in the same order, then sets the slice's count. Returns
     * the count.
     */
    private int recountStopped(int index) {
        long[] popped = new long[16];
        int n = 0;
        for (long node; (node = cache.popStopped(index)) >= 0; n++) {
            if (n == popped.length) {
                popped = Arrays.copyOf(popped, n * 2);
            }
            popped[n] = node;
        }
        for (int i = n - 1; i >= 0; i--) {
            cache.pushStopped(index, popped[i]);
        }
        setCountStopped(index, n);
        return n;
    }

    private void toDepot(int[] slots, int from, int to) {
        if (from >= to) {
            return;
        }
        depotLock.lock();
        try {
            System.arraycopy(slots, from, depot, depotSize, to - from);
            depotSize += to - from;
        } finally {
            depotLock.unlock();
        }
    }

    // ------------------------------------------------------------------ balance

    /**
     * Evens out the per-CPU caches. First each slice in turn is stopped, counted exactly
     * (which also repairs its count word) and trimmed to the per-CPU limit, the excess
     * going to the depot; then the fullest slice gives half the difference to the
     * emptiest, the second fullest to the second emptiest, and so on (each pair stopped
     * together, lower index first). Returns how many slots moved (to the depot or between
     * slices).
     */
    public int rebalance() {
        checkOpen();
        int slices = memory.slices();
        long[] exact = new long[slices];
        int moved = 0;
        for (int i = 0; i < slices; i++) {
            int[] excess;
            memory.stop(i);
            try {
                int n = recountStopped(i);
                excess = n > perCpuLimit ? popStoppedSlots(i, n - perCpuLimit) : new int[0];
                exact[i] = n - excess.length;
            } finally {
                memory.start(i);
            }
            toDepot(excess, 0, excess.length);
            moved += excess.length;
        }
        Integer[] order = new Integer[slices];
        for (int i = 0; i < slices; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(exact[b], exact[a]));
        for (int k = 0; k < slices / 2; k++) {
            int hi = order[k], lo = order[slices - 1 - k];
            long diff = exact[hi] - exact[lo];
            if (diff < 2) {
                break;
            }
            moved += move(hi, lo, (int) (diff / 2));
        }
        return moved;
    }

    /** Pops up to {@code max} slots from slice {@code index}, which the caller has stopped, adjusting its count. */
    private int[] popStoppedSlots(int index, int max) {
        int[] got = new int[max];
        int k = 0;
        for (long n; k < max && (n = cache.popStopped(index)) >= 0; ) {
            got[k++] = (int) SliceList.payloadWord(n);
        }
        if (k > 0) {
            setCountStopped(index, count(index) - k);
        }
        return k == max ? got : Arrays.copyOf(got, k);
    }

    /** Moves up to {@code n} nodes from slice {@code from} to slice {@code to}, both stopped meanwhile. */
    private int move(int from, int to, int n) {
        int first = Math.min(from, to), second = Math.max(from, to);
        memory.stop(first);
        try {
            memory.stop(second);
            try {
                int k = 0;
                for (long node; k < n && (node = cache.popStopped(from)) >= 0; k++) {
                    cache.pushStopped(to, node);
                }
                setCountStopped(from, count(from) - k);
                setCountStopped(to, count(to) + k);
                return k;
            } finally {
                memory.start(second);
            }
        } finally {
            memory.start(first);
        }
    }

    /**
     * Moves {@code units} of count from slice {@code from} to slice {@code to} and no slot:
     * the drift a thread migrated between a push and its count leaves behind (see the class
     * notes), made on purpose so that tests can check the repairs deterministically. Each
     * slice is stopped while its word changes.
     */
    void driftCounts(int from, int to, long units) {
        memory.checkIndex(from);
        memory.checkIndex(to);
        memory.stop(from);
        try {
            setCountStopped(from, count(from) - units);
        } finally {
            memory.start(from);
        }
        memory.stop(to);
        try {
            setCountStopped(to, count(to) + units);
        } finally {
            memory.start(to);
        }
    }

    /**
     * Free slots: {@code capacity} minus the slots handed out, from the state words
     * (exact when no acquire or release runs; costs a pass over {@code capacity} ints).
     */
    public long available() {
        long out = 0;
        for (int i = 0, u = used(); i < u; i++) {
            if (state.get(i) == IN_USE) {
                out++;
            }
        }
        return capacity - out;
    }

    /** Slots in the depot now. */
    public int depotSize() {
        depotLock.lock();
        try {
            return depotSize;
        } finally {
            depotLock.unlock();
        }
    }

    /** The per-CPU count of slice {@code index} (a heuristic; see the class notes). */
    public long cached(int index) {
        memory.checkIndex(index);
        return count(index);
    }

    public int slices() {
        return memory.slices();
    }

    @Override
    public String toString() {
        return owner + "[capacity=" + capacity + ", perCpu=" + perCpuLimit + ", used=" + used()
                + ", depot=" + depotSize() + "]";
    }
}
