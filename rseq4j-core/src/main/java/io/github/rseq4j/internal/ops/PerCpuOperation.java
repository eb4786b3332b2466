package io.github.rseq4j.internal.ops;

import io.github.rseq4j.internal.asm.Label;
import io.github.rseq4j.internal.memory.SliceLayout;

/**
 * The rseq operations, one template each. Arguments after the memory base are given in
 * each constant's comment; offsets are byte offsets inside the calling CPU's slice.
 * Every template is architecture- and index-mode-neutral.
 */
public enum PerCpuOperation implements OperationTemplate {

    /** add(base, off, delta): *v += delta. Returns the index. */
    ADD(3, 1) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg v = cs.temp(0);
            a.load(v, cs.slice(), cs.arg(1), 0);
            a.add(v, cs.arg(2));
            cs.commit(cs.slice(), cs.arg(1), 0, v, Ordering.RELAXED);
        }
    },

    /** compareAndStore(base, off, expect, newValue): if *v != expect fail; *v = newValue. */
    COMPARE_AND_STORE(4, 1) {
        @Override
        public void body(CriticalSection cs) {
            compareAndStore(cs, Ordering.RELAXED);
        }
    },

    /** The same with a release commit. */
    COMPARE_AND_STORE_RELEASE(4, 1) {
        @Override
        public void body(CriticalSection cs) {
            compareAndStore(cs, Ordering.RELEASE);
        }
    },

    /**
     * compare2AndStore(base, off1, expect1, off2, expect2, newValue):
     * if *v1 != expect1 or *v2 != expect2 fail; *v1 = newValue.
     */
    COMPARE2_AND_STORE(6, 1) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg v = cs.temp(0);
            a.load(v, cs.slice(), cs.arg(1), 0);
            a.branch(Cond.NE, v, cs.arg(2), cs.compareFailed());
            a.load(v, cs.slice(), cs.arg(3), 0);
            a.branch(Cond.NE, v, cs.arg(4), cs.compareFailed());
            cs.commit(cs.slice(), cs.arg(1), 0, cs.arg(5), Ordering.RELAXED);
        }
    },

    /**
     * push(base, headOff, node, nextOff): node.next = *head (a speculative store to the
     * caller's private node), then *head = node with release ordering (publishes the node's
     * contents to whoever pops it). Returns the index.
     */
    PUSH(4, 1) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg head = cs.temp(0);
            a.load(head, cs.slice(), cs.arg(1), 0);
            a.store(cs.arg(2), cs.arg(3), 0, head);
            cs.commit(cs.slice(), cs.arg(1), 0, cs.arg(2), Ordering.RELEASE);
        }
    },

    /**
     * pop(base, headOff, nextOff): h = *head; if h == 0 fail; *head = h.next.
     * Returns the popped address. ABA-free: no other thread can run on this slice between
     * the load of h and the commit.
     */
    POP(3, 2) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg head = cs.temp(0);
            Reg next = cs.temp(1);
            a.load(head, cs.slice(), cs.arg(1), 0);
            a.branchImm(Cond.EQ, head, 0, cs.compareFailed());
            a.load(next, head, cs.arg(2), 0);
            cs.commit(cs.slice(), cs.arg(1), 0, next, Ordering.RELAXED);
            cs.result(head);
        }
    },

    /**
     * ringWrite(base, ringOff, src, len): appends one record (8-byte length, then len
     * bytes, padded to 8) to the ring at ringOff, or fails when it has no room. The copy
     * goes to free space only, so it is safe to redo; the commit publishes the new write
     * position with release ordering.
     */
    RING_WRITE(4, 6) {
        @Override
        public void body(CriticalSection cs) {
            MacroAssembler a = cs.asm();
            Reg ring = cs.temp(0), w = cs.temp(1), t = cs.temp(2), i = cs.temp(3), word = cs.temp(4), mask = cs.temp(5);
            Reg src = cs.arg(2), len = cs.arg(3);
            int data = SliceLayout.RING_DATA;
            a.mov(ring, cs.slice());
            a.add(ring, cs.arg(1));
            a.load(w, ring, null, SliceLayout.RING_WRITE);
            a.load(t, ring, null, SliceLayout.RING_READ);
            a.load(mask, ring, null, SliceLayout.RING_MASK);
            // i = used = w - r; t = free = capacity - used
            a.mov(i, w);
            a.sub(i, t);
            a.mov(t, mask);
            a.addImm(t, 1);
            a.sub(t, i);
            recordBytes(a, i, len);
            a.branch(Cond.GT_UNSIGNED, i, t, cs.compareFailed());
            // record header
            a.mov(t, w);
            a.and(t, mask);
            a.add(t, ring);
            a.store(t, null, data, len);
            // whole words
            Label words = a.label("words"), tail = a.label("tail"), done = a.label("done");
            a.movImm(i, 0);
            a.bind(words);
            a.mov(t, i);
            a.addImm(t, 8);
            a.branch(Cond.GT_UNSIGNED, t, len, tail);
            a.load(word, src, i, 0);
            ringAddress(a, t, ring, w, i, mask);
            a.store(t, null, data, word);
            a.addImm(i, 8);
            a.jump(words);
            // remaining bytes
            a.bind(tail);
            a.branch(Cond.GE_UNSIGNED, i, len, done);
            a.loadByte(word, src, i, 0);
            ringAddress(a, t, ring, w, i, mask);
            a.storeByte(t, null, data, word);
            a.addImm(i, 1);
            a.jump(tail);
            a.bind(done);
            recordBytes(a, i, len);
            a.add(w, i);
            cs.commit(ring, null, SliceLayout.RING_WRITE, w, Ordering.RELEASE);
        }
    };

    private final int args;
    private final int temps;

    /** Body of both compare-and-store variants. */
    private static void compareAndStore(CriticalSection cs, Ordering ordering) {
        MacroAssembler a = cs.asm();
        Reg v = cs.temp(0);
        a.load(v, cs.slice(), cs.arg(1), 0);
        a.branch(Cond.NE, v, cs.arg(2), cs.compareFailed());
        cs.commit(cs.slice(), cs.arg(1), 0, cs.arg(3), ordering);
    }

    /** dst = bytes a record of {@code len} payload bytes takes: (len + header + 7) &amp; ~7. */
    private static void recordBytes(MacroAssembler a, Reg dst, Reg len) {
        a.mov(dst, len);
        a.addImm(dst, SliceLayout.RING_RECORD_HEADER + 7);
        a.andImm(dst, -8);
    }

    /** dst = ring + ((w + header + i) &amp; mask): where payload byte i of the record at w goes (minus RING_DATA). */
    private static void ringAddress(MacroAssembler a, Reg dst, Reg ring, Reg w, Reg i, Reg mask) {
        a.mov(dst, w);
        a.add(dst, i);
        a.addImm(dst, SliceLayout.RING_RECORD_HEADER);
        a.and(dst, mask);
        a.add(dst, ring);
    }

    PerCpuOperation(int args, int temps) {
        this.args = args;
        this.temps = temps;
    }

    @Override
    public int args() {
        return args;
    }

    @Override
    public int temps() {
        return temps;
    }
}
