package io.github.rseq4j;


import io.github.rseq4j.internal.structures.Waits;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * Per-CPU byte rings for recording events (log lines, trace points, samples) from any
 * number of threads: a record is copied into the ring of the CPU the writer runs on and
 * committed with one store, with no atomic instruction and no lock on the write path, and
 * one consumer drains every CPU's ring, each in commit order.
 *
 * <pre>{@code
 * PerCpuRingBuffer events = new PerCpuRingBuffer(1 << 20, PerCpuRingBuffer.OverflowPolicy.DROP);
 *
 * // any thread, platform or virtual:
 * events.write(("user " + id + " logged in").getBytes(UTF_8));   // false (and counted) when full
 *
 * // one consumer thread, periodically:
 * events.drain((cpu, bytes, length) -> out.write(bytes, 0, length));   // may throw IOException
 * long lost = events.dropped();
 * }</pre>
 *
 * <p><b>Implementation notes.</b> Built on {@link PerCpuRing}: one ring of
 * {@code capacityPerCpu} bytes per CPU in a per-CPU memory range of its own. A write is one
 * rseq critical section on the writer's CPU: read the write position and the read
 * position, check the room, copy the record (an 8-byte length, then the bytes padded to 8)
 * into free space, and commit the new write position with a release store. An abort
 * (preemption, migration, signal) before the commit leaves nothing visible, and the copy
 * is simply redone, on whatever CPU the thread then runs on; the copy may go to free space
 * that nobody reads, so it needs no atomics. A writer that cannot finish the section (not
 * registered, aborted too often) writes on the stop-and-fence path instead; in portable
 * mode that is the only path, and each slice's stopped word acts as a spin lock.
 *
 * <p>When the writer's ring has no room the {@link OverflowPolicy} decides: {@code DROP}
 * returns false and counts the record in {@link #dropped()} (a {@link PerCpuCounter}, so
 * counting is a critical section too); {@code WAIT} retries, spinning, then yielding, then
 * parking for growing intervals up to a millisecond, until the consumer frees space, and
 * throws {@link IllegalStateException} after {@code maxWait}.
 *
 * <p>{@link #drain} reads each ring from its read position up to an acquire load of its
 * write position, hands every record to the handler, and then frees the space with a
 * release store of the read position. Records of one ring come out in the order they
 * were committed there, so the records one thread wrote while on one CPU stay in order;
 * records of different CPUs are not ordered with respect to each other (add a timestamp
 * or sequence number to the record if the consumer must merge them).
 *
 * <p><b>Memory.</b> {@code capacityPerCpu} bytes per possible CPU (pages are touched as
 * the rings fill), given back when the buffer is closed and drained (see {@link #close()}
 * and {@link PerCpuMemory}).
 *
 * <p><b>Memory ordering.</b> Everything a writer did before a committed write
 * happens-before the consumer's handler call for that record (release store of the write
 * position, acquire load by the consumer); the consumer's reading of a record
 * happens-before the reuse of its space (release store of the read position, acquire load
 * by writers).
 */
public final class PerCpuRingBuffer implements AutoCloseable {
    /** What a write does when the calling CPU's ring is full. */
    public enum OverflowPolicy {
        /** Give up: {@code write} returns false and the record is counted in {@link #dropped()}. */
        DROP,
        /** Wait for the consumer to free space, up to the ring buffer's maximum wait. */
        WAIT
    }

    /** Default bound on a {@link OverflowPolicy#WAIT} write's wait. */
    public static final Duration DEFAULT_MAX_WAIT = Duration.ofSeconds(10);

    private static final int SPINS = 64;
    private static final int YIELDS = 64;
    private static final long MAX_PARK_NANOS = 1_000_000L;

    private final PerCpuMemory memory;
    private final PerCpuRing ring;
    private final OverflowPolicy policy;
    private final long maxWaitNanos;
    private final PerCpuCounter dropped = new PerCpuCounter();
    private volatile boolean closed;

    /**
     * Rings of {@code capacityPerCpu} bytes (a power of two from 256 to 512 KiB) per CPU;
     * a {@link OverflowPolicy#WAIT} write waits at most {@link #DEFAULT_MAX_WAIT}.
     *
     * @param capacityPerCpu the size of each CPU's ring in bytes: a power of two from 256 to
     *                       512 KiB; records and their 8-byte headers share it
     * @param policy         what a write does when its CPU's ring is full: drop the record,
     *                       or wait for the consumer
     * @throws IllegalArgumentException for a bad capacity
     * @throws NullPointerException     when {@code policy} is null
     */
    public PerCpuRingBuffer(long capacityPerCpu, OverflowPolicy policy) {
        this(capacityPerCpu, policy, DEFAULT_MAX_WAIT);
    }

    /**
     * As {@link #PerCpuRingBuffer(long, OverflowPolicy)}, with {@code maxWait} as the
     * longest a {@link OverflowPolicy#WAIT} write waits for room.
     *
     * @param capacityPerCpu the size of each CPU's ring in bytes: a power of two from 256 to
     *                       512 KiB; records and their 8-byte headers share it
     * @param policy         what a write does when its CPU's ring is full: drop the record,
     *                       or wait for the consumer
     * @param maxWait        how long a {@code WAIT} write waits at most for room before it
     *                       throws; not negative, and a wait too long to count in nanoseconds
     *                       means no limit. Ignored by {@code DROP}.
     * @throws IllegalArgumentException for a bad capacity or a negative wait
     * @throws NullPointerException     when {@code policy} or {@code maxWait} is null
     */
    public PerCpuRingBuffer(long capacityPerCpu, OverflowPolicy policy, Duration maxWait) {
        this.policy = Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(maxWait, "maxWait");
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("maxWait must not be negative: " + maxWait);
        }
        this.maxWaitNanos = Waits.saturatedNanos(maxWait);
        this.memory = new PerCpuMemory(IndexMode.CPU_ID, PerCpuRing.bytesPerSlice(capacityPerCpu));
        try {
            this.ring = memory.newRing(capacityPerCpu);
        } catch (RuntimeException e) {
            memory.close();
            throw e;
        }
    }

    /**
     * Bytes of ring per CPU.
     *
     * @return the size of each CPU's ring in bytes, as given to the constructor
     */
    public long capacityPerCpu() {
        return ring.capacity();
    }

    /**
     * Number of rings (one per possible CPU).
     *
     * @return how many rings there are; the {@code cpu} a drain reports is below this
     */
    public int rings() {
        return memory.slices();
    }

    /**
     * The overflow policy.
     *
     * @return what a write does when its CPU's ring is full, as given to the constructor
     */
    public OverflowPolicy policy() {
        return policy;
    }

    /**
     * The largest record a write accepts.
     *
     * @return the most bytes one record may have: {@value PerCpuRing#MAX_RECORD}, or less
     *         when a ring is too small to hold that
     */
    public int maxRecordSize() {
        return (int) Math.min(PerCpuRing.MAX_RECORD, ring.capacity() - 8);
    }

    /**
     * Appends {@code record} (a heap or native segment of at most {@link #maxRecordSize()}
     * bytes) to the ring of the CPU the caller runs on. Returns true when it was written;
     * false when that ring was full and the policy is {@link OverflowPolicy#DROP} (the
     * record is counted in {@link #dropped()}).
     *
     * @param record the bytes to append, all of the segment (they are copied; the caller may
     *               reuse the segment on return)
     * @return {@code true} when the record was written, {@code false} when it was dropped
     * @throws NullPointerException     when {@code record} is null
     * @throws IllegalArgumentException when it is larger than {@link #maxRecordSize()}
     * @throws IllegalStateException    when the ring buffer is closed, or a {@code WAIT}
     *                                  write found no room within the maximum wait
     */
    public boolean write(MemorySegment record) {
        Objects.requireNonNull(record, "record");
        if (closed) {
            throw new IllegalStateException("this PerCpuRingBuffer is closed");
        }
        if (ring.write(record) >= 0) {
            return true;
        }
        return full(record);
    }

    /**
     * As {@link #write(MemorySegment)}, for a whole array.
     *
     * @param record the bytes to append, all of the array (they are copied)
     * @return {@code true} when the record was written, {@code false} when it was dropped
     */
    public boolean write(byte[] record) {
        Objects.requireNonNull(record, "record");
        return write(MemorySegment.ofArray(record));
    }

    /**
     * As {@link #write(MemorySegment)}, for {@code length} bytes of {@code record} from {@code offset}.
     *
     * @param record an array holding the record (its bytes are copied)
     * @param offset the index of the record's first byte in {@code record}
     * @param length the record's size in bytes
     * @return {@code true} when the record was written, {@code false} when it was dropped
     * @throws IndexOutOfBoundsException when the range is not inside {@code record}
     */
    public boolean write(byte[] record, int offset, int length) {
        Objects.requireNonNull(record, "record");
        Objects.checkFromIndexSize(offset, length, record.length);
        return write(MemorySegment.ofArray(record).asSlice(offset, length));
    }

    private boolean full(MemorySegment record) {
        if (policy == OverflowPolicy.DROP) {
            dropped.increment();
            return false;
        }
        long start = System.nanoTime();
        long park = 1_000;
        for (int round = 0; ; round++) {
            if (round < SPINS) {
                Thread.onSpinWait();
            } else if (round < SPINS + YIELDS || Thread.currentThread().isInterrupted()) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(MAX_PARK_NANOS, park * 2);
            }
            if (closed) {
                throw new IllegalStateException("this PerCpuRingBuffer was closed while a write waited for room");
            }
            if (ring.write(record) >= 0) {
                return true;
            }
            if (maxWaitNanos != Long.MAX_VALUE && System.nanoTime() - start > maxWaitNanos) {
                throw new IllegalStateException("PerCpuRingBuffer: the calling CPU's ring (" + ring.capacity()
                        + " bytes) had no room for a " + record.byteSize() + "-byte record for "
                        + Duration.ofNanos(maxWaitNanos) + "; is a consumer draining it?");
            }
        }
    }

    /**
     * Reads every record committed so far, ring by ring and in commit order within a ring,
     * hands each to {@code handler} (with the ring's index and a buffer that is valid only
     * during the call), and frees their space. One consumer at a time: concurrent calls
     * are serialised. Works after {@link #close()}, to read what is left; the drain that
     * leaves a closed buffer empty gives its memory back. Returns how many records were read.
     *
     * @param <X>     what the handler may throw (checked exceptions included)
     * @param handler receives each record with the index of the CPU whose ring held it
     * @return how many records were delivered to {@code handler}
     * @throws X                    whatever {@code handler} threw; the records after that one
     *                              stay in the rings for the next drain
     * @throws NullPointerException when {@code handler} is null
     */
    public <X extends Exception> long drain(RecordHandler<X> handler) throws X {
        Objects.requireNonNull(handler, "handler");
        synchronized (ring) {
            if (memory.slices.isReleased()) {
                return 0;
            }
            try {
                return ring.drain(handler);
            } finally {
                releaseIfDrained();
            }
        }
    }

    /**
     * Gives the memory back once the buffer is closed and nothing is left to read (holds the
     * ring's lock). Quiesces first, so that no write that passed the closed check can still
     * commit after {@code pending()} was read (a drain may see the closed flag before
     * {@link #close()} has quiesced the memory).
     */
    private void releaseIfDrained() {
        if (closed && !memory.slices.isReleased()) {
            memory.slices.quiesce();
            if (pending() == 0) {
                memory.close();
            }
        }
    }

    /**
     * Records dropped so far by {@link OverflowPolicy#DROP} writes.
     *
     * @return how many writes found their CPU's ring full and gave up, since creation
     */
    public long dropped() {
        return dropped.sum();
    }

    /**
     * Committed bytes not yet drained, over all rings (approximate while writers run).
     *
     * @return the ring space the undrained records take, headers and padding included
     */
    public long pending() {
        if (memory.slices.isReleased()) {
            return 0;
        }
        long n = 0;
        for (int i = 0; i < memory.slices(); i++) {
            n += ring.used(i);
        }
        return n;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return {@code true} once writes are forbidden
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Forbids further writes (a waiting {@code WAIT} write gives up with
     * {@link IllegalStateException}, and so does a write that races the close) and waits
     * until no write is in flight. When nothing is left to read, the rings' memory is given
     * back at once; otherwise {@link #drain} still reads what was committed, and the drain
     * that empties the buffer gives the memory back (so does the garbage collector, for a
     * buffer dropped undrained). Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        memory.slices.quiesce();
        synchronized (ring) {
            releaseIfDrained();
        }
    }

    @Override
    public String toString() {
        return "PerCpuRingBuffer[" + rings() + " x " + ring.capacity() + " bytes, " + policy + ", dropped="
                + dropped() + "]";
    }
}
