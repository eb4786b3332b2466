package io.github.rseq4j.internal.structures;

import io.github.rseq4j.internal.abi.BoundedStackLayout;
import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.codegen.PerCpuOperation;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.runtime.JitConstants;
import io.github.rseq4j.internal.runtime.RuntimeContext;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The engine of {@code PerCpuPool} and {@code PerCpuBufferPool}: a pool of slot numbers
 * {@code 0 <= slot < capacity} with a per-CPU cache, a shared depot, lazy first use and
 * a FIFO hand-off to waiters. What a slot stands for (an object, a buffer) is the
 * caller's business.
 *
 * <p><b>Implementation notes.</b>
 * <ul>
 * <li>Per-CPU cache: a bounded stack per CPU ({@link BoundedStackLayout}: a count word and
 *     {@code perCpuLimit} entries) in per-CPU memory, as tcmalloc's per-CPU slabs. An
 *     acquire is one critical section ({@link PerCpuOperation#BOUNDED_POP}: fail when
 *     empty, else take the top entry and commit count - 1) and a release is one
 *     ({@link PerCpuOperation#BOUNDED_PUSH}: fail when full, else write the entry into free
 *     space and commit count + 1). Fullness and emptiness are decided inside the section,
 *     so the counts are exact and nothing else is counted on the fast path.</li>
 * <li>Depot: an array stack of slot numbers under a lock. A release that finds its CPU's
 *     cache full moves half a cache's worth (a batch) from the caller's CPU to the depot,
 *     then pushes; an acquire that finds its CPU's cache empty takes a batch from the
 *     depot (one for the caller, the rest pushed on its CPU). Then slots never used yet;
 *     then stealing: the fullest other CPU's slice is stopped ({@link SliceMemory#stop},
 *     which fences its CPU), a batch is popped there with the operation's Java twin, and
 *     it is restarted. Slices whose count reads zero are not stopped, so polling an
 *     exhausted pool costs no fences.</li>
 * <li>State: one int per slot: bit 0 is {@link #IN_USE} (else free), the bits above count
 *     the slot's acquisitions (a generation). An acquire sets it to the next generation,
 *     in use, with a release store (the slot came from a pop, the depot, the fresh counter
 *     or a hand-off, which give it to one thread only, so the previous value is its own to
 *     read); a release changes it back with a CAS, so a slot released twice, even by two
 *     threads at the same instant, is reported and never cached twice. The state word at
 *     acquisition is the holder's {@link #ticket}: {@link #releaseTicket} releases only
 *     while the word still equals it, so a {@code Lease} whose object was released by hand
 *     and acquired again by another thread cannot release the new holder's object.
 *     That CAS is the one atomic instruction of the fast path: uncontended (the word is
 *     the holder's), it costs about as much as one more critical section would, and it is
 *     what makes a racing double release detectable at all.</li>
 * <li>Waiters: {@link #acquire(Duration)} that finds nothing enqueues itself (FIFO),
 *     counts itself in {@code waiting}, looks once more, and parks. Whoever makes a slot
 *     available and then sees {@code waiting > 0} takes a free slot back and hands it to
 *     the longest waiter ({@link #serveWaiters}), so slots go to waiters in arrival order.
 *     The fast path never touches the queue: it reads {@code waiting} once.</li>
 * </ul>
 *
 * <p>No lost wake-up (a Dekker pattern, issue 18 defect 3). A waiter W does: enqueue;
 * {@code waiting++} (a volatile read-modify-write); rescan; park. Every thread M that makes
 * a slot available does: commit the slot to a place (a cache, the depot); read
 * {@code waiting}; if it is above 0, serve. The claim: W never stays parked while a slot
 * is free. It needs, for every commit, that W's rescan sees it or M's read sees W's count.
 * The rescan ({@link #rescanForWaiter}) therefore <em>stops every slice</em> (not only
 * the non-empty ones) and takes the depot's lock, and each kind of commit is ordered
 * against that:
 * <ul>
 * <li>A critical-section push (release's fast path, {@code fromDepot}'s refill, a
 *     release's push after a spill): stopping slice {@code i} fences CPU {@code i}
 *     (membarrier, or the affinity method), and a push on slice {@code i} runs on CPU
 *     {@code i}. If the fence reached that CPU after the commit, the commit is visible to
 *     W after its stop; if before, M's read of {@code waiting}, which follows its commit
 *     in program order, comes after the fence, which comes after W's count. This is
 *     membarrier's asymmetric fence: it costs the releaser no fence instruction, only the
 *     volatile load after its push (the load before it, of the old code, was the bug: it
 *     could see 0, the push land after W's rescan, and W sleep beside a free slot).</li>
 * <li>A push through the Java twin or the portable path: done under the slice's stopped
 *     word, which W's stop also takes; the word orders the two like a lock.</li>
 * <li>A slot put into the depot ({@code spillThenPush}, {@code steal}, {@code fromDepot}'s
 *     leftovers, a hand-off that found no taker): under the depot's lock, which W's rescan
 *     also takes.</li>
 * <li>A slot moved between places during W's rescan may dodge it, but then its move
 *     committed after W counted itself, and the mover's read sees the count.</li>
 * </ul>
 * So each path that makes a slot available ends with {@code if (waiting > 0)
 * serveWaiters()}: release, {@code fromDepot}, {@code steal}, {@code rebalance}; the
 * hand-off paths re-enter through {@link #releaseOpen}. {@link #serveWaiters} takes one
 * free slot (own cache, depot, other caches; a slot it misses is in transit, and its mover
 * checks after committing it) and hands it over; a hand-off with no taker puts the slot in
 * the depot and looks at the queue once more (a waiter that enqueued meanwhile is in the
 * queue before its rescan, which takes the depot's lock after the put or before it).
 * Waiting costs the waiter one stop (a fence) per slice.
 *
 * <p>Memory ordering: a push commits with a release store of the count and a pop reads
 * the count and the entry in the same critical section, so what the releasing thread wrote
 * to a slot's object happens-before the next acquirer's use on the rseq path; the depot's
 * lock, the stop protocol and the hand-off's CAS give the same on the other paths.
 */
public final class SlotPool {
    /** Slot state bit: handed out (clear: in a cache, in the depot, or never used). */
    public static final int IN_USE = 1;
    /** What {@link #take} adds to a slot's state word: one generation. */
    private static final int GENERATION = 2;

    /** Largest capacity. */
    public static final int MAX_CAPACITY = 1 << 26;
    /** Largest per-CPU cache (its stack must fit in a slice; larger requests are clamped). */
    public static final int MAX_PER_CPU = 1 << 16;

    private static final VarHandle STATE = MethodHandles.arrayElementVarHandle(int[].class);
    private static final long NO_SLOT = -1, CANCELLED = -2;
    private static final VarHandle WAITER_SLOT;

    static {
        try {
            WAITER_SLOT = MethodHandles.lookup().findVarHandle(Waiter.class, "slot", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A thread waiting in {@link #acquire(Duration)}; {@code slot} is set once, by a releaser or by the waiter's cancel. */
    private static final class Waiter {
        final Thread thread = Thread.currentThread();
        volatile long slot = NO_SLOT;
    }

    /**
     * The depot: an array stack of slots under a lock. Its size word changes on every spill
     * and refill, so it lives here rather than in a field of the pool, whose object every
     * acquire and release on every CPU reads (a write to the pool object's line would cost
     * each of them a miss).
     */
    private static final class Depot {
        final ReentrantLock lock = new ReentrantLock();
        final int[] slots;
        /** Guarded by {@link #lock}. */
        int size;

        Depot(int capacity) {
            slots = new int[capacity];
        }
    }

    private final String owner;
    private final int capacity;
    private final int perCpuLimit;
    private final int batch;
    private final SliceMemory memory;
    private final SliceOps ops;
    /** Offset of the per-CPU bounded stack. */
    private final long stack;
    /**
     * The state words, one per slot at {@link #stateIndex}: in pools of up to
     * {@value #PADDED_UP_TO} slots each word has a cache line of its own (16 ints), because
     * the word is written on every acquire and release, and two holders of neighbouring
     * slots on two CPUs would otherwise pass one line back and forth on every operation.
     * The words start {@value #STATE_PAD} ints (two lines) into the array and end as far
     * before its end: the array's header (its length, read by every bounds check) and the
     * neighbouring heap objects then never share a line with a word that is written. (Slot
     * 0's word in the header's line cost a thread on another CPU one miss per bounds check:
     * 2-thread acquire + release took twice the 1-thread time in runs where one thread held
     * slot 0.)
     */
    private final int[] state;
    private final int stateShift;
    /** Largest capacity whose state words are padded to a cache line each. */
    static final int PADDED_UP_TO = 1 << 16;
    /** Unused ints before the first state word and after the last: two cache lines. */
    static final int STATE_PAD = 32;
    private final AtomicInteger fresh = new AtomicInteger();
    /** The shared depot, in an object of its own (see {@link Depot}). */
    private final Depot depot;
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile boolean closed;

    /**
     * @param owner        names the pool in exception messages
     * @param capacity     number of slots
     * @param perCpuLimit  slots a CPU's cache may hold before it spills to the depot; 0 for
     *                     the default; clamped to the capacity and to {@link #MAX_PER_CPU}
     * @param context      the runtime's collaborators: the operations every acquire and release runs
     */
    public SlotPool(String owner, int capacity, int perCpuLimit, RuntimeContext context) {
        if (capacity <= 0 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be 1 to " + MAX_CAPACITY + ": " + capacity);
        }
        if (perCpuLimit < 0) {
            throw new IllegalArgumentException("per-CPU capacity must be >= 1 (or 0 for the default): " + perCpuLimit);
        }
        this.owner = owner;
        this.ops = SliceOps.of(context);
        this.capacity = capacity;
        int limit = perCpuLimit > 0 ? perCpuLimit
                : defaultPerCpuLimit(capacity, JitConstants.RUNTIME.platform().sliceCount());
        this.perCpuLimit = Math.min(Math.min(limit, capacity), MAX_PER_CPU);
        this.batch = Math.max(1, this.perCpuLimit / 2);
        this.memory = new SliceMemory(IndexField.CPU_ID, BoundedStackLayout.bytes(this.perCpuLimit) + 64, context.fences());
        long off = memory.allocateFresh(BoundedStackLayout.bytes(this.perCpuLimit), 64);
        if (off < 0) {
            throw new IllegalStateException("no room for a per-CPU cache of " + this.perCpuLimit + " slots");
        }
        this.stack = off;
        this.stateShift = capacity <= PADDED_UP_TO ? 4 : 0;
        this.state = new int[(capacity << stateShift) + 2 * STATE_PAD];
        this.depot = new Depot(capacity);
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

    /** Forbids further use and gives the per-CPU memory back; waiters give up. */
    public void close() {
        closed = true;
        memory.close();
        for (Waiter w : waiters) {
            LockSupport.unpark(w.thread);
        }
    }

    /** Whether {@code slot} is handed out now. */
    public boolean inUse(int slot) {
        return ((int) STATE.getAcquire(state, stateIndex(slot)) & IN_USE) != 0;
    }

    /**
     * The ticket of the current holder of {@code slot}: its state word, which changes
     * when the slot is released and with every later acquisition. Read it right after the
     * acquire (the caller holds the slot).
     *
     * @param slot a slot the caller holds
     * @return the ticket to pass to {@link #releaseTicket}
     */
    public int ticket(int slot) {
        return (int) STATE.getAcquire(state, stateIndex(slot));
    }

    // ------------------------------------------------------------------ acquire

    /**
     * Takes a free slot for the caller, in this order: the calling CPU's cache (one
     * critical section), the depot, a slot never used before, another CPU's cache. Returns
     * the slot, or -1 when none was found (under concurrent releases an acquire may miss a
     * slot being released at the same moment).
     */
    public int acquire() {
        checkOpen();
        long r = ops.run(PerCpuOperation.BOUNDED_POP, memory, stack, 0, 0, 0, 0, null);
        if (r >= 0) {
            // the slot's object is reached through r: an address dependency (see BOUNDED_POP)
            return take((int) r);
        }
        return acquireSlow();
    }

    /**
     * As {@link #acquire()}, waiting up to {@code timeout} for a slot: in a FIFO queue that
     * releases serve first. Returns -1 on timeout. A timeout too long to represent in
     * nanoseconds waits without limit.
     *
     * @throws IllegalArgumentException when {@code timeout} is negative (as the ring's
     *                                  maximum wait: one rule for every wait)
     * @throws InterruptedException when interrupted while waiting
     */
    public int acquire(Duration timeout) throws InterruptedException {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        int s = acquire();
        if (s >= 0 || !timeout.isPositive()) {
            return s;
        }
        long nanos = Waits.saturatedNanos(timeout);
        long start = System.nanoTime();
        Waiter w = new Waiter();
        waiters.add(w);
        waiting.incrementAndGet();
        // A release between the failed acquire and the count cached its slot: look again,
        // fencing every CPU (see "No lost wake-up" above).
        try {
            s = rescanForWaiter();
        } catch (RuntimeException | Error e) {
            int mine = cancelOr(w, -1);
            if (mine >= 0) {
                releaseQuietly(mine);
            }
            throw e;
        }
        if (s >= 0) {
            return cancelOr(w, s);
        }
        while (true) {
            long got = w.slot;
            if (got >= 0) {
                return take((int) got);
            }
            if (closed) {
                int mine = cancelOr(w, -1);
                if (mine >= 0) {
                    return mine;
                }
                checkOpen();
            }
            if (Thread.interrupted()) {
                int mine = cancelOr(w, -1);
                if (mine >= 0) {
                    release(mine);
                }
                throw new InterruptedException();
            }
            long left = nanos == Long.MAX_VALUE ? Long.MAX_VALUE : nanos - (System.nanoTime() - start);
            if (left <= 0) {
                return cancelOr(w, -1);
            }
            LockSupport.parkNanos(this, left);
        }
    }

    /**
     * Withdraws waiter {@code w}. If a releaser handed it a slot meanwhile, that slot is
     * the caller's too: keep {@code mine} if there is one and give the handed slot back, or
     * take the handed slot. Returns the slot the caller now holds, or -1.
     */
    private int cancelOr(Waiter w, int mine) {
        if (WAITER_SLOT.compareAndSet(w, NO_SLOT, CANCELLED)) {
            if (waiters.remove(w)) {
                waiting.decrementAndGet();
            }
            return mine;
        }
        int handed = take((int) w.slot);
        if (mine < 0) {
            return handed;
        }
        release(handed);
        return mine;
    }

    /**
     * The waiter's look after it counted itself: stops every slice in turn (fencing its
     * CPU) and pops one slot there, then the depot, then a slot never used. -1 when the
     * pool is closed or nothing is free.
     */
    private int rescanForWaiter() {
        if (closed) {
            return -1;
        }
        for (int i = 0, n = memory.slices(); i < n; i++) {
            int[] got = popStopped(i, 1);
            if (got.length > 0) {
                return take(got[0]);
            }
        }
        int s = depotPop();
        return s >= 0 ? take(s) : fromFresh();
    }

    /** Gives back a slot the caller holds, unless the pool closed meanwhile. */
    private void releaseQuietly(int slot) {
        if (!closed) {
            releaseOpen(slot);
        }
    }

    /** Where slot {@code slot}'s state word is in {@link #state}. */
    int stateIndex(int slot) {
        return (slot << stateShift) + STATE_PAD;
    }

    /** The length of {@link #state}, for the layout test. */
    int stateLength() {
        return state.length;
    }

    /** Marks {@code slot}, which the caller alone holds, in use: the next generation. */
    private int take(int slot) {
        int i = stateIndex(slot);
        STATE.setRelease(state, i, ((int) STATE.get(state, i) + GENERATION) | IN_USE);
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
        depot.lock.lock();
        try {
            if (depot.size == 0) {
                return -1;
            }
            int k = Math.min(batch, depot.size);
            got = Arrays.copyOfRange(depot.slots, depot.size - k, depot.size);
            depot.size -= k;
        } finally {
            depot.lock.unlock();
        }
        int i = 1;
        for (; i < got.length; i++) {
            if (push(got[i]) < 0) {
                break; // the CPU's cache filled up meanwhile
            }
        }
        toDepot(got, i, got.length);
        serveWaitersIfAny(); // the rest of the batch is available now
        return take(got[0]);
    }

    /** One slot from the depot, -1 when it is empty. */
    private int depotPop() {
        depot.lock.lock();
        try {
            return depot.size == 0 ? -1 : depot.slots[--depot.size];
        } finally {
            depot.lock.unlock();
        }
    }

    /**
     * Steals a batch from the slice that holds the most (then from the others): one slot
     * for the caller, the rest to the depot. Empty slices are skipped without stopping
     * them, so an exhausted pool costs no fences. -1 when every slice is empty.
     */
    private int steal() {
        int[] got = stealUpTo(batch);
        if (got.length == 0) {
            return -1;
        }
        if (got.length > 1) {
            toDepot(got, 1, got.length);
            serveWaitersIfAny(); // the rest of the batch is available now
        }
        return take(got[0]);
    }

    /**
     * Pops up to {@code max} slots from the fullest slice that has any (each slice stopped
     * while popped); an empty array when every slice reads empty.
     */
    private int[] stealUpTo(int max) {
        long[] c = new long[memory.slices()];
        for (int i : byCountDescending(c)) {
            if (c[i] == 0) {
                break;
            }
            int[] got = popStopped(i, max);
            if (got.length > 0) {
                return got;
            }
        }
        return new int[0];
    }

    /** Stops slice {@code index}, pops up to {@code max} slots with its twin, restarts it. */
    private int[] popStopped(int index, int max) {
        memory.stop(index);
        try {
            return popHeld(index, max);
        } finally {
            memory.start(index);
        }
    }

    /** Pops up to {@code max} slots from slice {@code index}, which the caller holds stopped. */
    private int[] popHeld(int index, int max) {
        int[] got = new int[Math.min(max, perCpuLimit)];
        int k = 0;
        for (long r; k < got.length
                && (r = SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_POP, memory, index, stack, 0, 0, 0, 0, null)) >= 0; ) {
            got[k++] = (int) r;
        }
        return k == got.length ? got : Arrays.copyOf(got, k);
    }

    // ------------------------------------------------------------------ release

    /**
     * Gives {@code slot} back: onto the calling CPU's cache (one critical section),
     * spilling a batch to the depot first when that cache is full; then, if someone waits,
     * a free slot goes to the longest waiter.
     *
     * @throws IllegalStateException when it is not handed out (released twice), or the
     *                               pool is closed
     * @throws IndexOutOfBoundsException for a slot outside the pool
     */
    public void release(int slot) {
        checkOpen();
        releaseOpen(slot);
    }

    /**
     * {@link #release(int)} for a caller that has just called {@link #checkOpen()} (the
     * public pools check it before they look the slot up, and need not check twice).
     *
     * @throws IllegalStateException when it is not handed out (released twice)
     * @throws IndexOutOfBoundsException for a slot outside the pool
     */
    public void releaseOpen(int slot) {
        int v = (int) STATE.getAcquire(state, stateIndex(slot));
        if ((v & IN_USE) == 0 || !STATE.compareAndSet(state, stateIndex(slot), v, v & ~IN_USE)) {
            throw releasedTwice();
        }
        makeAvailable(slot);
    }

    /**
     * {@link #release(int)} for the holder of {@code ticket} (from {@link #ticket}): only
     * while the slot is still in that holder's hands.
     *
     * @throws IllegalStateException when the slot was released since the ticket was taken
     *                               (and perhaps acquired again by someone else), or the
     *                               pool is closed
     */
    public void releaseTicket(int slot, int ticket) {
        checkOpen();
        if ((ticket & IN_USE) == 0 || !STATE.compareAndSet(state, stateIndex(slot), ticket, ticket & ~IN_USE)) {
            throw new IllegalStateException(owner + ": this lease's object was given back already (by release),"
                    + " and may be someone else's now");
        }
        makeAvailable(slot);
    }

    /** Puts a slot whose state was just set free into a cache (or the depot), then serves waiters. */
    private void makeAvailable(int slot) {
        if (push(slot) < 0) {
            spillThenPush(slot);
        }
        // Read only after the push committed: see "No lost wake-up" above.
        serveWaitersIfAny();
    }

    /** After a slot became available: if anyone waits, hands free slots to the waiters. */
    private void serveWaitersIfAny() {
        if (waiting.get() > 0) {
            serveWaiters();
        }
    }

    /**
     * Hands free slots to waiters while both exist: takes one back (own CPU's cache, the
     * depot, the fullest other cache) and gives it to the longest waiter. A slot with no
     * taker goes to the depot, and the queue is looked at once more: a waiter that enqueued
     * meanwhile either finds it there or is served here. Each round serves a waiter or
     * ends, so the loop is bounded by the waiters that arrive.
     */
    private void serveWaiters() {
        while (!closed) {
            int s = takeBackFree();
            if (s < 0) {
                return; // nothing free: the next slot made available serves them
            }
            if (handOff(s)) {
                if (waiting.get() == 0) {
                    return;
                }
            } else {
                toDepot(new int[]{s}, 0, 1);
                if (waiters.isEmpty()) {
                    return;
                }
            }
        }
    }

    /** One free slot for a hand-off (its state stays free), or -1; moves nothing else. */
    private int takeBackFree() {
        long r = ops.run(PerCpuOperation.BOUNDED_POP, memory, stack, 0, 0, 0, 0, null);
        if (r >= 0) {
            return (int) r;
        }
        int s = depotPop();
        if (s >= 0) {
            return s;
        }
        int[] got = stealUpTo(1);
        return got.length > 0 ? got[0] : -1;
    }

    private IllegalStateException releasedTwice() {
        return new IllegalStateException(owner + ": released twice (or never acquired)");
    }

    /** Hands {@code slot} to the longest waiter; false when none takes it. */
    private boolean handOff(int slot) {
        for (Waiter w; (w = waiters.poll()) != null; ) {
            waiting.decrementAndGet();
            if (WAITER_SLOT.compareAndSet(w, NO_SLOT, (long) slot)) {
                LockSupport.unpark(w.thread);
                return true;
            }
        }
        return false;
    }

    /** One critical section: pushes {@code slot} on the caller's CPU; its index, or FULL. */
    private long push(int slot) {
        return ops.run(PerCpuOperation.BOUNDED_PUSH, memory, stack, slot, perCpuLimit, 0, 0, null);
    }

    /**
     * The caller's CPU's cache was full: moves a batch from the CPU the thread is on now to
     * the depot (each pop one critical section), then pushes; bounded, and the depot
     * always takes {@code slot} in the end.
     */
    private void spillThenPush(int slot) {
        int[] got = new int[batch];
        for (int round = 0; round < 4; round++) {
            int k = 0;
            for (long r; k < batch && (r = ops.run(PerCpuOperation.BOUNDED_POP, memory, stack, 0, 0, 0, 0, null)) >= 0; ) {
                got[k++] = (int) r;
            }
            toDepot(got, 0, k);
            if (push(slot) >= 0) {
                return;
            }
        }
        toDepot(new int[]{slot}, 0, 1);
    }

    private void toDepot(int[] slots, int from, int to) {
        if (from >= to) {
            return;
        }
        depot.lock.lock();
        try {
            System.arraycopy(slots, from, depot.slots, depot.size, to - from);
            depot.size += to - from;
        } finally {
            depot.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ balance

    /**
     * Evens out the per-CPU caches: the fullest slice gives half the difference to the
     * emptiest, the second fullest to the second emptiest, and so on (each pair stopped
     * together, lower index first), and slices holding more than half a cache give the
     * excess to the depot when the depot is empty. Returns how many slots moved.
     */
    public int rebalance() {
        checkOpen();
        int slices = memory.slices();
        long[] counts = new long[slices];
        Integer[] order = byCountDescending(counts);
        int moved = 0;
        for (int k = 0; k < slices / 2; k++) {
            int hi = order[k], lo = order[slices - 1 - k];
            long diff = counts[hi] - counts[lo];
            if (diff < 2) {
                break;
            }
            moved += move(hi, lo, (int) (diff / 2));
        }
        if (moved > 0) {
            serveWaitersIfAny();
        }
        return moved;
    }

    /** Moves up to {@code n} slots from slice {@code from} to slice {@code to}, both stopped meanwhile. */
    private int move(int from, int to, int n) {
        int first = Math.min(from, to), second = Math.max(from, to);
        memory.stop(first);
        try {
            memory.stop(second);
            try {
                int k = 0;
                for (long r; k < n
                        && (r = SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_POP, memory, from, stack, 0, 0, 0, 0, null)) >= 0; ) {
                    if (SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_PUSH, memory, to, stack, r, perCpuLimit, 0, 0, null) < 0) {
                        SliceOps.onHeldSlice(PerCpuOperation.BOUNDED_PUSH, memory, from, stack, r, perCpuLimit, 0, 0, null);
                        break;
                    }
                    k++;
                }
                return k;
            } finally {
                memory.start(second);
            }
        } finally {
            memory.start(first);
        }
    }

    /**
     * Free slots: {@code capacity} minus the slots handed out, from the state words
     * (exact when no acquire or release runs; costs a pass over {@code capacity} ints).
     */
    public long available() {
        long out = 0;
        for (int i = 0, u = used(); i < u; i++) {
            if (((int) STATE.getAcquire(state, stateIndex(i)) & IN_USE) != 0) {
                out++;
            }
        }
        return capacity - out;
    }

    /** Slots in the depot now. */
    public int depotSize() {
        depot.lock.lock();
        try {
            return depot.size;
        } finally {
            depot.lock.unlock();
        }
    }

    /** Slots cached on slice {@code index} now (exact: the count the critical sections maintain). */
    public long cached(int index) {
        memory.checkIndex(index);
        return count(index);
    }

    /** Threads waiting in {@link #acquire(Duration)} now. */
    public int waiters() {
        return waiting.get();
    }

    /**
     * Reads every slice's count into {@code counts} (one entry per slice) and returns the
     * slice indexes, the fullest first.
     */
    private Integer[] byCountDescending(long[] counts) {
        Integer[] order = new Integer[counts.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = count(i);
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(counts[b], counts[a]));
        return order;
    }

    private long count(int index) {
        return SliceOps.getAcquire(memory, index, stack + BoundedStackLayout.COUNT);
    }

    public int slices() {
        return memory.slices();
    }

    /**
     * For example {@code PerCpuPool[capacity=64, out=3, free=61 (never used 40, in the depot 8),
     * perCpu=16]}: out and free add up to the capacity; the free ones not in the depot or
     * never used are in the CPUs' caches.
     */
    @Override
    public String toString() {
        long free = available();
        return owner + "[capacity=" + capacity + ", out=" + (capacity - free) + ", free=" + free
                + " (never used " + (capacity - used()) + ", in the depot " + depotSize() + "), perCpu="
                + perCpuLimit + (closed ? ", closed" : "") + "]";
    }
}
