package io.github.rseq4j.stress;

import io.github.rseq4j.RseqResult;
import io.github.rseq4j.internal.memory.NodeArena;
import io.github.rseq4j.internal.memory.SliceOps;

/**
 * Per-CPU LIFO lists pre-filled with distinct nodes. Each operation pops a node from the
 * caller's list (an empty list only counts as such) and pushes it back, on whatever CPU
 * the worker then runs. At the end every list is drained: each node must be found exactly
 * once, intact.
 */
final class ListScenario extends Scenario {
    /** Nodes per slice, as param_test's 100 per CPU (fewer on machines with many CPUs). */
    static int nodesPerSlice(int slices) {
        return Math.max(4, Math.min(100, 16384 / slices));
    }

    private long head;
    private StressNodes nodes;
    private long[] pops;
    private long[] empty;

    ListScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        head = allocate(8, 8);
        int perSlice = nodesPerSlice(m.slices());
        nodes = new StressNodes(perSlice * m.slices());
        for (int i = 0; i < m.slices(); i++) {
            m.stop(i);
            try {
                for (int k = 0; k < perSlice; k++) {
                    SliceOps.pushStopped(m, i, head, nodes.addresses[i * perSlice + k], NodeArena.NEXT_OFFSET);
                }
            } finally {
                m.start(i);
            }
        }
        pops = new long[run.config.threads()];
        empty = new long[run.config.threads()];
    }

    @Override
    long expected() {
        return nodes.count;
    }

    @Override
    void operate(Worker w, long rep) {
        long n = w.pop(head, NodeArena.NEXT_OFFSET);
        if (n == RseqResult.EMPTY) {
            empty[w.index]++;
            w.pauseIfDue(rep);
            return;
        }
        if (n < 0) {
            throw run.abort("worker " + w.index + ": pop returned " + RseqResult.describe(n));
        }
        String problem = nodes.claim(n);
        if (problem != null) {
            throw run.abort("worker " + w.index + " popped a bad node: " + problem);
        }
        pops[w.index]++;
        w.pauseIfDue(rep);
        nodes.release(n);
        long r = w.push(head, n, NodeArena.NEXT_OFFSET);
        if (r < 0) {
            throw run.abort("worker " + w.index + ": push returned " + RseqResult.describe(r));
        }
    }

    @Override
    Verdict verify() {
        StressNodes.Census census = new StressNodes.Census(nodes);
        long limit = 2L * nodes.count + 1;
        long walked = 0;
        for (int i = 0; i < m.slices(); i++) {
            m.stop(i);
            try {
                for (long n; (n = SliceOps.popStopped(m, i, head, NodeArena.NEXT_OFFSET)) >= 0 && walked < limit; walked++) {
                    census.add(n);
                }
            } finally {
                m.start(i);
            }
        }
        Verdict.Builder v = Verdict.builder();
        long ops = sum(pops) + sum(empty);
        v.detail("pops", sum(pops)).detail("empty", sum(empty));
        census.report(v, run.unwound());
        v.check(walked < limit, "the lists hold more than " + limit + " entries (a cycle?)");
        v.check(run.unwound() || ops == operations(), "operations " + ops + " != operations done " + operations());
        return v.build(census.distinct());
    }
}
