package io.github.rseq4j.internal.codegen;

import io.github.rseq4j.internal.abi.BoundedStackLayout;
import io.github.rseq4j.internal.abi.OpResult;
import io.github.rseq4j.internal.abi.RingFormat;
import io.github.rseq4j.internal.abi.SliceLayout;
import io.github.rseq4j.internal.asm.Cond;
import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.asm.MacroAssembler;
import io.github.rseq4j.internal.asm.Ordering;
import io.github.rseq4j.internal.asm.Reg;
import io.github.rseq4j.internal.os.AddressAccess;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The per-CPU operations. Each constant is the whole definition of one operation, in one
 * place: its {@linkplain #body template} (architecture- and index-mode-neutral, wrapped by
 * {@link CriticalSectionGenerator}), its {@linkplain #params native signature}, and its
 * {@linkplain #onStoppedSlice Java twin}: what the operation does on a slice the caller
 * holds stopped, which is how every operation completes when its critical section cannot
 * commit, and how portable mode runs it. Adding an operation is adding a constant; the
 * differential test checks each template against its twin.
 *
 * <p>Arguments: argument 0 is always the base address of a per-CPU memory range; the
 * others are given in each constant's comment. Offsets are byte offsets inside the slice.
 * In Java every operation is called with one uniform signature,
 * {@code (long base, long a1 .. a5, MemorySegment src) -> long} ({@link OperationSet#invoke}),
 * where {@code a1..} are the operation's {@code long} arguments in order and {@code src}
 * its source segment, if it has one; unused arguments are ignored.
 *
 * <p>Results are {@link OpResult} codes: {@code >= 0} committed (the slice index, or what
 * the operation returns instead); decided failures say why nothing was stored.
 */
public enum PerCpuOperation implements OperationTemplate {

    /** add(base, off, delta): *v += delta. Returns the index. */
    ADD(1, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg v = cs.temp(0);
            a.load(v, cs.slice(), cs.arg(1), 0);
            a.add(v, cs.arg(2));
            cs.commit(cs.slice(), cs.arg(1), 0, v, Ordering.RELAXED);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long delta, long a3, long a4, long a5,
                                   MemorySegment src) {
            long at = slice + off;
            w.set(JAVA_LONG, at, w.get(JAVA_LONG, at) + delta);
            return index;
        }
    },

    /** compareAndStore(base, off, expect, newValue): if *v != expect fail; *v = newValue. */
    COMPARE_AND_STORE(1, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            compareAndStore(cs, cs.arg(1), cs.arg(2), cs.arg(3), Ordering.RELAXED);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long expect, long newValue, long a4, long a5,
                                   MemorySegment src) {
            return compareAndStoreStopped(w, index, slice, off, expect, newValue);
        }
    },

    /** The same with a release commit. */
    COMPARE_AND_STORE_RELEASE(1, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            compareAndStore(cs, cs.arg(1), cs.arg(2), cs.arg(3), Ordering.RELEASE);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long expect, long newValue, long a4, long a5,
                                   MemorySegment src) {
            return compareAndStoreStopped(w, index, slice, off, expect, newValue);
        }
    },

    /**
     * compare2AndStore(base, off1, expect1, off2, expect2, newValue):
     * if *v1 != expect1 or *v2 != expect2 fail; *v1 = newValue.
     */
    COMPARE2_AND_STORE(1, Param.LONG, Param.LONG, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg v = cs.temp(0);
            a.load(v, cs.slice(), cs.arg(1), 0);
            a.branch(Cond.NE, v, cs.arg(2), cs.fail(OpResult.COMPARE_FAILED));
            a.load(v, cs.slice(), cs.arg(3), 0);
            a.branch(Cond.NE, v, cs.arg(4), cs.fail(OpResult.COMPARE_FAILED));
            cs.commit(cs.slice(), cs.arg(1), 0, cs.arg(5), Ordering.RELAXED);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off1, long e1, long off2, long e2, long newValue,
                                   MemorySegment src) {
            if (w.get(JAVA_LONG, slice + off1) != e1 || w.get(JAVA_LONG, slice + off2) != e2) {
                return OpResult.COMPARE_FAILED;
            }
            w.set(JAVA_LONG, slice + off1, newValue);
            return index;
        }
    },

    /**
     * push(base, headOff, node, nextOff): node.next = *head (a speculative store to the
     * caller's private node), then *head = node with release ordering (publishes the node's
     * contents to whoever pops it). Returns the index.
     */
    PUSH(1, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg head = cs.temp(0);
            a.load(head, cs.slice(), cs.arg(1), 0);
            a.store(cs.arg(2), cs.arg(3), 0, head);
            // release: the link, and what the caller wrote to the node, before the head
            cs.commit(cs.slice(), cs.arg(1), 0, cs.arg(2), Ordering.RELEASE);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long headOff, long node, long nextOff, long a4, long a5,
                                   MemorySegment src) {
            long head = w.get(JAVA_LONG, slice + headOff);
            AddressAccess.setLong(node + nextOff, head);
            w.set(JAVA_LONG, slice + headOff, node);
            return index;
        }
    },

    /**
     * pop(base, headOff, nextOff): h = *head; if h == 0 fail with EMPTY; *head = h.next.
     * Returns the popped address. ABA-free: no other thread can run on this slice between
     * the load of h and the commit.
     */
    POP(2, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg head = cs.temp(0);
            Reg next = cs.temp(1);
            a.load(head, cs.slice(), cs.arg(1), 0);
            a.branchImm(Cond.EQ, head, 0, cs.fail(OpResult.EMPTY));
            // Address dependency on head: on aarch64 this load, and the caller's reads of the
            // node through the returned address, are ordered after the head load, so they see
            // what the pusher wrote before its release commit (no acquire needed).
            a.load(next, head, cs.arg(2), 0);
            cs.commit(cs.slice(), cs.arg(1), 0, next, Ordering.RELAXED);
            cs.result(head);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long headOff, long nextOff, long a3, long a4, long a5,
                                   MemorySegment src) {
            long head = w.get(JAVA_LONG, slice + headOff);
            if (head == 0) {
                return OpResult.EMPTY;
            }
            w.set(JAVA_LONG, slice + headOff, AddressAccess.getLong(head + nextOff));
            return head;
        }
    },

    /**
     * boundedPush(base, stackOff, value, capacity): if count == capacity fail with FULL;
     * entries[count] = value (a speculative store to free space), then count + 1 is the
     * commit, with release ordering. Returns the index. One section decides fullness and
     * publishes the value, so a pool's release is one downcall.
     */
    BOUNDED_PUSH(2, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg count = cs.temp(0), at = cs.temp(1);
            a.load(count, cs.slice(), cs.arg(1), BoundedStackLayout.COUNT);
            a.branch(Cond.GE_UNSIGNED, count, cs.arg(3), cs.fail(OpResult.FULL));
            entryOffset(a, at, count, cs.arg(1));
            a.store(cs.slice(), at, BoundedStackLayout.ENTRIES, cs.arg(2));
            a.addImm(count, 1);
            // release: the entry (and the releaser's writes to what it names) before the count
            cs.commit(cs.slice(), cs.arg(1), BoundedStackLayout.COUNT, count, Ordering.RELEASE);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long value, long capacity, long a4, long a5,
                                   MemorySegment src) {
            long at = slice + off;
            long count = w.get(JAVA_LONG, at + BoundedStackLayout.COUNT);
            if (Long.compareUnsigned(count, capacity) >= 0) {
                return OpResult.FULL;
            }
            w.set(JAVA_LONG, at + BoundedStackLayout.ENTRIES + 8 * count, value);
            w.set(JAVA_LONG, at + BoundedStackLayout.COUNT, count + 1);
            return index;
        }
    },

    /**
     * boundedPop(base, stackOff): if count == 0 fail with EMPTY; count - 1 is the commit.
     * Returns entries[count - 1] (values are non-negative). Reads only before the commit.
     */
    BOUNDED_POP(3, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg count = cs.temp(0), at = cs.temp(1), value = cs.temp(2);
            a.load(count, cs.slice(), cs.arg(1), BoundedStackLayout.COUNT);
            a.branchImm(Cond.EQ, count, 0, cs.fail(OpResult.EMPTY));
            a.addImm(count, -1);
            entryOffset(a, at, count, cs.arg(1));
            // Address dependency on count (at is computed from it): ordered after the count
            // load on aarch64, so the entry is the one the pusher's release commit published;
            // the caller reaches the slot's object through the value (another dependency).
            a.load(value, cs.slice(), at, BoundedStackLayout.ENTRIES);
            cs.commit(cs.slice(), cs.arg(1), BoundedStackLayout.COUNT, count, Ordering.RELAXED);
            cs.result(value);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long a2, long a3, long a4, long a5,
                                   MemorySegment src) {
            long at = slice + off;
            long count = w.get(JAVA_LONG, at + BoundedStackLayout.COUNT);
            if (count == 0) {
                return OpResult.EMPTY;
            }
            w.set(JAVA_LONG, at + BoundedStackLayout.COUNT, count - 1);
            return w.get(JAVA_LONG, at + BoundedStackLayout.ENTRIES + 8 * (count - 1));
        }
    },

    /**
     * ringWrite(base, ringOff, src, len): appends one record (8-byte length, then len
     * bytes, padded to 8) to the ring at ringOff, or fails with FULL when it has no room.
     * The copy goes to free space only, so it is safe to redo; the commit publishes the
     * new write position with release ordering. {@code src} is a segment the caller has
     * checked can be read without faulting (heap, or native memory rseq4j owns); the code
     * reads exactly its {@code len} bytes, never past them.
     *
     * <p>The copy: when the record does not wrap across the end of the ring (the common
     * case), a straight loop of 8-byte words to consecutive addresses, then one more word
     * that ends exactly at the last payload byte (it overlaps the previous one; both write
     * the same bytes), or a byte loop for a payload shorter than a word. A record that
     * wraps takes the general loop: whole words, then bytes, each address masked into the
     * ring (records are 8-aligned, so no word straddles the end).
     */
    RING_WRITE(5, Param.LONG, Param.SOURCE, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg w = cs.temp(0), t = cs.temp(1), at = cs.temp(2), word = cs.temp(3), mask = cs.temp(4);
            Reg slice = cs.slice(), ringOff = cs.arg(1), src = cs.arg(2), len = cs.arg(3);
            int data = SliceLayout.RING_DATA, header = SliceLayout.RING_RECORD_HEADER;
            a.load(w, slice, ringOff, SliceLayout.RING_WRITE);
            a.load(t, slice, ringOff, SliceLayout.RING_READ);
            a.load(mask, slice, ringOff, SliceLayout.RING_MASK);
            // room: used + need > capacity, i.e. (w - r) + need - 1 > mask, fails
            a.mov(at, w);
            a.sub(at, t);
            recordBytes(a, t, len);
            a.add(at, t);
            a.addImm(at, -1);
            // Control dependency from the read-position load to the record stores below: Arm
            // never performs a store before the branch it follows is resolved, so no record
            // lands in space the consumer has not released (its release store of RING_READ).
            a.branch(Cond.GT_UNSIGNED, at, mask, cs.fail(OpResult.FULL));
            // at = where the record starts in the ring; mask - at - 7 = payload room - 1 before the end
            a.mov(at, w);
            a.and(at, mask);
            a.mov(t, mask);
            a.sub(t, at);
            a.addImm(t, -(header - 1));
            // at = slice + ringOff + position (record header at [at + data], payload from [at + data + 8])
            a.add(at, slice);
            a.add(at, ringOff);
            a.store(at, null, data, len);
            Label wrap = a.label("wrap"), small = a.label("small"), words = a.label("words"),
                    wordsTest = a.label("wordsTest"), bytes = a.label("bytes"), done = a.label("done");
            // the payload needs more than the room before the end (room is a multiple of 8)
            a.branch(Cond.GT_UNSIGNED, len, t, wrap);
            a.branchImm(Cond.LT_UNSIGNED, len, 8, small);
            // straight copy: t runs over word ends 8, 16, ... below len; then the word ending at len
            a.movImm(t, 8);
            a.jump(wordsTest);
            a.bind(words);
            a.load(word, src, t, -8);
            a.store(at, t, data + header - 8, word);
            a.addImm(t, 8);
            a.bind(wordsTest);
            a.branch(Cond.LT_UNSIGNED, t, len, words);
            a.load(word, src, len, -8);
            a.store(at, len, data + header - 8, word);
            a.jump(done);
            // fewer than 8 bytes, not wrapping
            a.bind(small);
            a.movImm(t, 0);
            a.bind(bytes);
            a.branch(Cond.GE_UNSIGNED, t, len, done);
            a.loadByte(word, src, t, 0);
            a.storeByte(at, t, data + header, word);
            a.addImm(t, 1);
            a.jump(bytes);
            // the record wraps: every payload address masked into the ring
            a.bind(wrap);
            Label wrapWords = a.label("wrapWords"), wrapTail = a.label("wrapTail");
            a.movImm(t, 0);
            a.bind(wrapWords);
            a.mov(at, t);
            a.addImm(at, 8);
            a.branch(Cond.GT_UNSIGNED, at, len, wrapTail);
            a.load(word, src, t, 0);
            ringAddress(a, at, slice, ringOff, w, t, mask);
            a.store(at, null, data, word);
            a.addImm(t, 8);
            a.jump(wrapWords);
            a.bind(wrapTail);
            a.branch(Cond.GE_UNSIGNED, t, len, done);
            a.loadByte(word, src, t, 0);
            ringAddress(a, at, slice, ringOff, w, t, mask);
            a.storeByte(at, null, data, word);
            a.addImm(t, 1);
            a.jump(wrapTail);
            a.bind(done);
            recordBytes(a, t, len);
            a.add(w, t);
            cs.commit(slice, ringOff, SliceLayout.RING_WRITE, w, Ordering.RELEASE);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long ringOff, long len, long a3, long a4, long a5,
                                   MemorySegment src) {
            return RingFormat.writeStopped(w, slice + ringOff, src, len) ? index : OpResult.FULL;
        }
    },

    /**
     * logAppend(base, cursorOff, value, limit, step): interleaved logs after a cursor word.
     * w = *cursor, a byte offset into the entries that follow the cursor; if w >= limit
     * (unsigned) fail with FULL; the entry at {@code cursorOff + 8 + w} = value (a
     * speculative store to free space), then w + step is the commit, with release ordering.
     * Returns the index. With {@code L} logs and {@code step = 8L}, the cursor is
     * {@code step * count + 8 * log}: its low bits select the active log, entry {@code k} of
     * log {@code b} is word {@code L*k + b} after the cursor, and a structure switches a
     * CPU's active log (a histogram's ring of sample logs) with one store to the cursor,
     * whose old value says how many entries the log it replaced holds. The cursor is
     * trusted: it must be allocated fresh, with {@code limit} bytes of entries after it.
     * (One temporary and no entries argument keep the section in registers: the step's
     * argument register costs one callee-saved register, saved outside the section.)
     */
    LOG_APPEND(1, Param.LONG, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            logAppend(cs, cs.arg(3), cs.arg(4), cs.arg(2));
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long cursorOff, long value, long limit,
                                   long step, long a5, MemorySegment src) {
            return logAppendStopped(w, index, slice, cursorOff, limit, step, 1, value, 0);
        }
    },

    /**
     * logAppendPair(base, cursorOff, tag, value, limit, step): {@link #LOG_APPEND} with
     * entries of two words, for logs shared by many series: w = *cursor; if w >= limit
     * (unsigned) fail with FULL; the entry's words at {@code cursorOff + 8 + w} = tag and
     * {@code cursorOff + 16 + w} = value (two speculative stores to free space), then
     * w + step is the commit, with release ordering. Returns the index. With {@code L}
     * logs and {@code step = 16L}, the cursor is {@code step * count + 16 * log}: entry
     * {@code k} of log {@code b} is words {@code 2(L*k + b)} and {@code 2(L*k + b) + 1}
     * after the cursor. The cursor is trusted, as for {@code LOG_APPEND}.
     */
    LOG_APPEND_PAIR(1, Param.LONG, Param.LONG, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            logAppend(cs, cs.arg(4), cs.arg(5), cs.arg(2), cs.arg(3));
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long cursorOff, long tag, long value,
                                   long limit, long step, MemorySegment src) {
            return logAppendStopped(w, index, slice, cursorOff, limit, step, 2, tag, value);
        }
    },

    /**
     * compareIndexAndStore(base, off, index, expect, newValue): if the section runs on a
     * slice other than {@code index}, or *v != expect, fail with COMPARE_FAILED; else
     * *v = newValue, with release ordering. Returns the index. A commit proves that the
     * caller ran on slice {@code index}'s CPU (or concurrency id) at that instant, so no
     * other critical section of that slice was in flight: any that had started was
     * preempted to let the caller run, and the kernel aborts it before it resumes. A
     * structure can so change a word of its own CPU's slice under every later critical
     * section of that slice without the stop protocol's fence (rseq4j uses it on
     * {@code CPU_ID} memory only).
     */
    COMPARE_INDEX_AND_STORE(1, Param.LONG, Param.LONG, Param.LONG, Param.LONG) {
        @Override
        public void body(CriticalSection cs) {
            cs.asm().branch(Cond.NE, cs.index(), cs.arg(2), cs.fail(OpResult.COMPARE_FAILED));
            compareAndStore(cs, cs.arg(1), cs.arg(3), cs.arg(4), Ordering.RELEASE);
        }

        @Override
        public long onStoppedSlice(MemorySegment w, int index, long slice, long off, long expectedIndex, long expect,
                                   long newValue, long a5, MemorySegment src) {
            if (index != expectedIndex) {
                return OpResult.COMPARE_FAILED;
            }
            return compareAndStoreStopped(w, index, slice, off, expect, newValue);
        }
    };

    /** Kinds of native parameters after the memory base. */
    public enum Param {
        /** A 64-bit integer: an offset, a value, an address rseq4j owns. */
        LONG,
        /** A source segment, heap or native, passed as an address (at most one per operation). */
        SOURCE
    }

    /** Java's calling convention for every operation; see the class notes. */
    public static final int UNIFORM_LONG_ARGS = 5;

    private final int temps;
    private final List<Param> params;

    PerCpuOperation(int temps, Param... params) {
        this.temps = temps;
        this.params = List.of(params);
        if (params.length > UNIFORM_LONG_ARGS) {
            throw new IllegalArgumentException(name() + ": at most " + UNIFORM_LONG_ARGS + " arguments after the base");
        }
    }

    /**
     * The operation on slice {@code index} of the range {@code w}, which the caller holds
     * stopped (or, in portable mode, locked): the same effect and result as the generated
     * critical section, with plain loads and stores. Arguments as in the uniform signature.
     *
     * @param w     the whole per-CPU memory range
     * @param index the slice the caller holds stopped
     * @param slice the byte offset of that slice in {@code w} (its stride times {@code index})
     * @param a1    the operation's first {@code long} argument (see its constant), or ignored
     * @param a2    its second {@code long} argument, or ignored
     * @param a3    its third {@code long} argument, or ignored
     * @param a4    its fourth {@code long} argument, or ignored
     * @param a5    its fifth {@code long} argument, or ignored
     * @param src   its source segment, for an operation that takes one; else ignored
     * @return what the critical section would have returned: {@code index} (or the
     *         operation's own result) on success, else a decided failure
     */
    public abstract long onStoppedSlice(MemorySegment w, int index, long slice, long a1, long a2, long a3, long a4, long a5,
                                        MemorySegment src);

    /**
     * The native parameters after the memory base, in order.
     *
     * @return the kinds of the operation's native parameters, memory base excluded
     */
    public List<Param> params() {
        return params;
    }

    /**
     * Whether the operation takes a source segment (and so needs heap access in its downcall).
     *
     * @return {@code true} when one of its parameters is {@link Param#SOURCE}
     */
    public boolean hasSource() {
        return params.contains(Param.SOURCE);
    }

    /**
     * The native signature: {@code long f(long base, params...)}.
     *
     * @return the function descriptor used to bind the generated code
     */
    public FunctionDescriptor descriptor() {
        List<MemoryLayout> args = new ArrayList<>();
        args.add(JAVA_LONG);
        for (Param p : params) {
            args.add(p == Param.SOURCE ? ADDRESS : JAVA_LONG);
        }
        return FunctionDescriptor.of(JAVA_LONG, args.toArray(MemoryLayout[]::new));
    }

    /**
     * Where each native argument comes from in the uniform Java signature
     * {@code (base, a1..a5, src)}: base is 0, a1..a5 are 1..5, src is 6.
     */
    int[] uniformReorder() {
        int[] reorder = new int[params.size() + 1];
        int nextLong = 1;
        for (int i = 0; i < params.size(); i++) {
            reorder[i + 1] = params.get(i) == Param.SOURCE ? UNIFORM_LONG_ARGS + 1 : nextLong++;
        }
        return reorder;
    }

    @Override
    public int args() {
        return params.size() + 1;
    }

    @Override
    public int temps() {
        return temps;
    }

    // ------------------------------------------------------------------ shared pieces

    /** dst = stackOff + 8 * i: where entry i of a bounded stack lies (minus ENTRIES), relative to the slice. */
    private static void entryOffset(MacroAssembler a, Reg dst, Reg i, Reg stackOff) {
        a.mov(dst, i);
        a.shlImm(dst, 3);
        a.add(dst, stackOff);
    }

    /** Body of the compare-and-store operations: if the word at {@code off} in the slice holds {@code expect}, commit {@code newValue} to it; else fail with COMPARE_FAILED. Uses temp 0. */
    private static void compareAndStore(CriticalSection cs, Reg off, Reg expect, Reg newValue, Ordering ordering) {
        MacroAssembler a = cs.asm();
        Reg v = cs.temp(0);
        a.load(v, cs.slice(), off, 0);
        a.branch(Cond.NE, v, expect, cs.fail(OpResult.COMPARE_FAILED));
        cs.commit(cs.slice(), off, 0, newValue, ordering);
    }

    private static long compareAndStoreStopped(MemorySegment w, int index, long slice, long off, long expect, long newValue) {
        long at = slice + off;
        if (w.get(JAVA_LONG, at) != expect) {
            return OpResult.COMPARE_FAILED;
        }
        w.set(JAVA_LONG, at, newValue);
        return index;
    }

    /**
     * Body of the log appends ({@code cursorOff} is argument 1): w = *cursor; if w >= limit
     * (unsigned) fail with FULL; the entry's words at {@code cursorOff + 8 + w} on are
     * {@code words} (speculative stores to free space); w + step is the commit, with release
     * ordering. Uses temp 0 only.
     */
    private static void logAppend(CriticalSection cs, Reg limit, Reg step, Reg... words) {
        MacroAssembler a = cs.asm();
        Reg w = cs.temp(0);
        a.load(w, cs.slice(), cs.arg(1), 0);
        a.branch(Cond.GE_UNSIGNED, w, limit, cs.fail(OpResult.FULL));
        a.add(w, cs.arg(1));
        // The entry stores' addresses depend on the cursor load (Arm performs no store before
        // the load its address depends on); the release commit below orders them before the
        // new cursor, which readers load with an acquire (SampleLogRing.trySwitch).
        for (int k = 0; k < words.length; k++) {
            a.store(cs.slice(), w, 8 + 8 * k, words[k]);
        }
        a.sub(w, cs.arg(1));
        a.add(w, step);
        cs.commit(cs.slice(), cs.arg(1), 0, w, Ordering.RELEASE);
    }

    /**
     * The log appends on a stopped slice: {@link #logAppend}'s effect and result, for an entry
     * of {@code words} (1 or 2) words, {@code first} and {@code second} (no array: portable
     * mode runs every append here).
     */
    private static long logAppendStopped(MemorySegment w, int index, long slice, long cursorOff, long limit, long step,
                                         int words, long first, long second) {
        long cursor = w.get(JAVA_LONG, slice + cursorOff);
        if (Long.compareUnsigned(cursor, limit) >= 0) {
            return OpResult.FULL;
        }
        w.set(JAVA_LONG, slice + cursorOff + 8 + cursor, first);
        if (words == 2) {
            w.set(JAVA_LONG, slice + cursorOff + 16 + cursor, second);
        }
        w.set(JAVA_LONG, slice + cursorOff, cursor + step);
        return index;
    }

    /** dst = bytes a record of {@code len} payload bytes takes: (len + header + 7) &amp; ~7. */
    private static void recordBytes(MacroAssembler a, Reg dst, Reg len) {
        a.mov(dst, len);
        a.addImm(dst, SliceLayout.RING_RECORD_HEADER + 7);
        a.andImm(dst, -8);
    }

    /**
     * dst = slice + ringOff + ((w + header + i) &amp; mask): where payload byte i of the record
     * at w goes (minus RING_DATA).
     */
    private static void ringAddress(MacroAssembler a, Reg dst, Reg slice, Reg ringOff, Reg w, Reg i, Reg mask) {
        a.mov(dst, w);
        a.add(dst, i);
        a.addImm(dst, SliceLayout.RING_RECORD_HEADER);
        a.and(dst, mask);
        a.add(dst, slice);
        a.add(dst, ringOff);
    }
}
