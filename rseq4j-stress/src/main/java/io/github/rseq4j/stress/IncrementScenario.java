package io.github.rseq4j.stress;

/** Every operation adds 1 to a per-CPU counter; the counters must sum to the operations done. */
final class IncrementScenario extends Scenario {
    private long counter;

    IncrementScenario(Run run) {
        super(run);
    }

    @Override
    void setUp() {
        counter = allocate(8, 8);
    }

    @Override
    long expected() {
        return operations();
    }

    @Override
    void operate(Worker w, long rep) {
        w.pauseIfDue(rep);
        long r = w.add(counter, 1);
        if (r < 0 || r >= m.slices()) {
            throw run.abort("worker " + w.index + ": add returned " + r + " (it always completes on a slice)");
        }
    }

    @Override
    Verdict verify() {
        long s = 0;
        for (int i = 0; i < m.slices(); i++) {
            s += get(i, counter);
        }
        return Verdict.builder()
                .check(s == expected(), "counter sum " + s + " != " + expected())
                .build(s);
    }
}
