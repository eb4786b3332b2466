package io.github.rseq4j.stress;

import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.memory.SliceMemory;

import java.lang.foreign.ValueLayout;

/**
 * param_test's "buffer push/pop": a bounded per-CPU array of node pointers plus a count.
 * Slots {@code [0, count)} are live; slots at or above {@code count} are scratch.
 *
 * <ul>
 * <li>pop is param_test's pop exactly: read {@code c = count} and {@code head = slot[c-1]}
 *     of the slice the worker expects to run on (a guess), then one critical section
 *     {@code compare2AndStore(count == c, slot[c-1] == head; count = c - 1)}. When it
 *     commits, {@code head} was the live top of the slice it ran on.</li>
 * <li>push is param_test's "compare count, speculative store to slot[count], commit
 *     count + 1", which needs a store to a slice-relative address the template set cannot
 *     express in one section, so it is two critical sections, both safe to fail:
 *     (a) {@code compare2AndStore(slot[c] == s, count == c; slot[c] = node)} writes only a
 *     scratch slot (count is c, so slot c is not live); (b)
 *     {@code compare2AndStore(count == c, slot[c] == node; count = c + 1)} publishes it.
 *     (b) commits only where slot c holds this node, which only its holder can have put
 *     there, so the node becomes live exactly once; when (b) fails the worker still holds
 *     the node and retries both.</li>
 * </ul>
 * Plain stores to another CPU's slots never happen outside a critical section (except on
 * stopped slices, during set-up and the final census). The capacity is the total number of
 * nodes, so a push never finds a slice full.
 */
final class BufferScenario extends Scenario {
    private long count;
    private int capacity;
    private StressNodes nodes;
    private long[] pops;
    private long[] empty;
    private long[] retries;

    BufferScenario(Run run) {
        super(run);
    }

    private long slot(long k) {
        return count + 8 + 8 * k;
    }

    @Override
    void setUp() {
        int perSlice = Math.max(4, Math.min(64, 8192 / m.slices()));
        nodes = new StressNodes(perSlice * m.slices());
        capacity = nodes.count;
        count = allocate(8 + 8L * capacity, 64);
        for (int i = 0; i < m.slices(); i++) {
            m.stop(i);
            try {
                for (int k = 0; k < perSlice; k++) {
                    whole.set(ValueLayout.JAVA_LONG, m.at(i, slot(k)), nodes.addresses[i * perSlice + k]);
                }
                whole.set(ValueLayout.JAVA_LONG, m.at(i, count), perSlice);
            } finally {
                m.start(i);
            }
        }
        pops = new long[run.config.threads()];
        empty = new long[run.config.threads()];
        retries = new long[run.config.threads()];
    }

    @Override
    long expected() {
        return nodes.count;
    }

    @Override
    void operate(Worker w, long rep) {
        long n = pop(w);
        if (n == 0) {
            empty[w.index]++;
            w.pauseIfDue(rep);
            return;
        }
        String problem = nodes.claim(n);
        if (problem != null) {
            throw run.abort("worker " + w.index + " popped a bad node: " + problem);
        }
        pops[w.index]++;
        w.pauseIfDue(rep);
        nodes.release(n);
        push(w, n);
    }

    /** The node popped from the worker's slice, or 0 when that buffer looked empty. */
    private long pop(Worker w) {
        for (int attempt = 0; ; attempt++) {
            int h = w.hint();
            long c = get(h, count);
            if (c == 0) {
                return 0;
            }
            checkCount(w, h, c);
            long head = get(h, slot(c - 1));
            long r = w.compare2AndStore(count, c, slot(c - 1), head, c - 1);
            if (r >= 0) {
                if (head == 0) {
                    throw run.abort("worker " + w.index + ": popped an empty live slot " + (c - 1) + " of slice " + r);
                }
                return head;
            }
            if (r != RseqResult.COMPARE_FAILED) {
                throw run.abort("worker " + w.index + ": buffer pop returned " + RseqResult.describe(r));
            }
            retries[w.index]++;
            w.backoff(attempt);
        }
    }

    private void push(Worker w, long node) {
        for (int attempt = 0; ; attempt++) {
            int h = w.hint();
            long c = get(h, count);
            checkCount(w, h, c);
            if (c == capacity) {
                throw run.abort("worker " + w.index + ": buffer of slice " + h + " is full (" + c
                        + ") while a node is held: more live entries than nodes");
            }
            long s = get(h, slot(c));
            long r = w.compare2AndStore(slot(c), s, count, c, node);
            if (r >= 0) {
                r = w.compare2AndStore(count, c, slot(c), node, c + 1);
                if (r >= 0) {
                    return;
                }
            }
            if (r != RseqResult.COMPARE_FAILED) {
                throw run.abort("worker " + w.index + ": buffer push returned " + RseqResult.describe(r));
            }
            retries[w.index]++;
            w.backoff(attempt);
        }
    }

    private void checkCount(Worker w, int slice, long c) {
        if (c < 0 || c > capacity) {
            throw run.abort("worker " + w.index + ": count of slice " + slice + " is " + c + ", outside [0, "
                    + capacity + "]");
        }
    }

    @Override
    Verdict verify() {
        StressNodes.Census census = new StressNodes.Census(nodes);
        Verdict.Builder v = Verdict.builder();
        for (int i = 0; i < m.slices(); i++) {
            m.stop(i);
            try {
                long c = whole.get(ValueLayout.JAVA_LONG, m.at(i, count));
                v.check(c >= 0 && c <= capacity, "count of slice " + i + " is " + c);
                for (long k = 0; k < Math.min(Math.max(c, 0), capacity); k++) {
                    census.add(whole.get(ValueLayout.JAVA_LONG, m.at(i, slot(k))));
                }
            } finally {
                m.start(i);
            }
        }
        long ops = sum(pops) + sum(empty);
        v.detail("pops", sum(pops)).detail("empty", sum(empty)).detail("retries", sum(retries));
        census.report(v, run.unwound());
        v.check(run.unwound() || ops == operations(), "operations " + ops + " != operations done " + operations());
        return v.build(census.distinct());
    }
}
