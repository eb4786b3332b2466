package io.github.rseq4j.internal.registration;

import io.github.rseq4j.internal.abi.AreaSlotLayout;

import io.github.rseq4j.internal.abi.RseqAbi;
import io.github.rseq4j.internal.os.Libc;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The rseq areas rseq4j registers itself, carved from never-unmapped slabs.
 *
 * <p><b>Implementation notes.</b> Each slot is {@value #SLOT_BYTES} bytes, aligned to its size:
 * the kernel's {@code struct rseq} at offset 0 (registered with the length the kernel's
 * feature size and alignment ask for, at most {@value #MAX_AREA_BYTES}), and rseq4j's
 * state word at {@value #STATE_OFFSET}. A slot is {@link #STATE_FREE} or
 * {@link #STATE_IN_USE}. A thread claims a free slot with a CAS before registering it;
 * the slot goes back to free only once the kernel can no longer write it: after a
 * successful unregistration, done either by the thread itself (explicit unregister) or by
 * the pthread key destructor the C library runs at thread exit, which is generated code
 * that unregisters and then stores {@code STATE_FREE}. If unregistration ever failed the
 * slot stays in use forever rather than risk a kernel write into a reused area. Slabs are
 * never unmapped. Claiming scans from a rotating cursor, so the number of slots follows
 * the number of live registered threads, not the number ever started.
 */
public final class OwnAreas {
    /** Bytes per slot (also its alignment). */
    public static final int SLOT_BYTES = AreaSlotLayout.SLOT_BYTES;
    /** Largest kernel area a slot holds. */
    public static final int MAX_AREA_BYTES = AreaSlotLayout.MAX_AREA_BYTES;
    private static final int STATE_OFFSET = AreaSlotLayout.STATE_OFFSET;
    private static final long STATE_FREE = AreaSlotLayout.STATE_FREE;
    private static final long STATE_IN_USE = AreaSlotLayout.STATE_IN_USE;

    private static final int SLAB_BYTES = 64 * 1024;
    private static final int SLOTS_PER_SLAB = SLAB_BYTES / SLOT_BYTES;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final CopyOnWriteArrayList<MemorySegment> slabs = new CopyOnWriteArrayList<>();
    private int cursor;

    /** A slot in use forever, never registered: its cpu_id says "registration failed". */
    public synchronized long permanentRefusedArea() {
        long a = claim();
        INT.setVolatile(slot(a), (long) RseqAbi.CPU_ID, RseqAbi.CPU_ID_REGISTRATION_FAILED);
        return a;
    }

    private static MemorySegment slot(long address) {
        return MemorySegment.ofAddress(address).reinterpret(SLOT_BYTES);
    }

    /**
     * Claims a free slot and prepares it for registration (cpu_id = -1, rseq_cs = 0,
     * flags = 0; cpu_id_start is left alone).
     */
    public long claim() {
        while (true) {
            int n = slabs.size();
            int total = n * SLOTS_PER_SLAB;
            int start;
            synchronized (this) {
                start = cursor;
            }
            for (int i = 0; i < total; i++) {
                int s = (start + i) % total;
                MemorySegment slab = slabs.get(s / SLOTS_PER_SLAB);
                long off = (long) (s % SLOTS_PER_SLAB) * SLOT_BYTES;
                if (LONG.compareAndSet(slab, off + STATE_OFFSET, STATE_FREE, STATE_IN_USE)) {
                    synchronized (this) {
                        cursor = s + 1;
                    }
                    MemorySegment area = slab.asSlice(off, SLOT_BYTES);
                    INT.setVolatile(area, (long) RseqAbi.CPU_ID, RseqAbi.CPU_ID_UNINITIALIZED);
                    LONG.setVolatile(area, (long) RseqAbi.RSEQ_CS, 0L);
                    INT.setVolatile(area, (long) RseqAbi.FLAGS, 0);
                    return area.address();
                }
            }
            synchronized (this) {
                if (slabs.size() == n) {
                    long base = Libc.mmapAnonymous(SLAB_BYTES, Libc.PROT_READ | Libc.PROT_WRITE, false);
                    slabs.add(MemorySegment.ofAddress(base).reinterpret(SLAB_BYTES));
                    cursor = n * SLOTS_PER_SLAB;
                }
            }
        }
    }

    /** Returns a slot the kernel does not (or no longer) know about. */
    public void release(long area) {
        LONG.setRelease(slot(area), (long) STATE_OFFSET, STATE_FREE);
    }

    /** Slots in use (including the permanent refused area). */
    public int inUse() {
        int count = 0;
        for (MemorySegment slab : slabs) {
            for (int i = 0; i < SLOTS_PER_SLAB; i++) {
                if ((long) LONG.getAcquire(slab, (long) i * SLOT_BYTES + STATE_OFFSET) != STATE_FREE) {
                    count++;
                }
            }
        }
        return count;
    }

    /** Slots that exist. */
    public int capacity() {
        return slabs.size() * SLOTS_PER_SLAB;
    }
}
