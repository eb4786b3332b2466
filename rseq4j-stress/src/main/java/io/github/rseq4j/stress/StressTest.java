package io.github.rseq4j.stress;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The stress scenarios, named as on the command line. */
public enum StressTest {
    /** Every operation adds 1 to a per-CPU counter. */
    INCREMENT("counter-sum"),
    /** A per-CPU spin lock guards a non-atomic increment of a per-CPU counter. */
    SPINLOCK("counter-sum"),
    /** Pop and push back nodes of per-CPU lists; nodes are conserved. */
    LIST("nodes"),
    /** Pop and push back nodes of bounded per-CPU array buffers; nodes are conserved. */
    BUFFER("nodes"),
    /** Producers copy records into per-CPU rings while one consumer drains them. */
    MEMCPY("records"),
    /** A manager flips an active-list selector and fences; the inactive list must not change. */
    MEMBARRIER("counter-sum"),
    /** {@code PerCpuCounter} adds while a collector calls {@code sumThenReset()}; nothing lost or counted twice. */
    COUNTER("sum-of-adds"),
    /** {@code PerCpuPool} acquire and release with a rebalancer; no object held twice, all come back. */
    POOL("objects-back"),
    /** {@code PerCpuBufferPool} acquire and release with a rebalancer; no buffer shared, all come back. */
    BUFFERPOOL("buffers-back"),
    /** {@code PerCpuRingBuffer} writers and one consumer: every record once, intact, in order per ring. */
    RINGBUFFER("records"),
    /**
     * {@code PerCpuHistogram}'s engine, built with the run's operations: recorders and a
     * {@code snapshotThenReset()} taker; every interval whole, every record in exactly one.
     */
    HISTOGRAM("records"),
    /**
     * {@code HistogramGroup}'s engine, built with the run's operations: recorders into many
     * series sharing one per-CPU path, a taker of group snapshots that also closes and replaces
     * series; every interval whole, every record in exactly one, or dropped with its closed series.
     */
    SERIES("records");

    private final String checkWord;

    StressTest(String checkWord) {
        this.checkWord = checkWord;
    }

    /**
     * What {@code expected=} and {@code actual=} of the result line count, as its
     * {@code check=} word: {@code counter-sum} (one per operation: increment, spinlock,
     * membarrier), {@code nodes} (every node of the lists or buffers, each found once),
     * {@code records} (each received or counted once: memcpy, ringbuffer, histogram and series, whose
     * {@code record(v, n)} counts n), {@code sum-of-adds} (the sum of every increment,
     * decrement and add of the counter scenario), {@code objects-back} and
     * {@code buffers-back} (what is back in the pool at the end: its capacity).
     */
    public String checkWord() {
        return checkWord;
    }

    /**
     * Whether the scenario runs on a structure of rseq4j's own (the last six) rather than
     * on the harness's per-CPU memory and critical sections. Those structures choose their
     * own memory (indexed by CPU), so unregistered workers and the index mode do not apply
     * to them; the first four use the public API only, so delay points do not apply either
     * ({@link #takesDelayPoints()}).
     */
    public boolean usesPublicApi() {
        return ordinal() >= COUNTER.ordinal();
    }

    /**
     * Whether the scenario runs the run's operations, so a delay point applies: the
     * harness's own scenarios, and {@link #HISTOGRAM} and {@link #SERIES}, whose engines are built with them.
     */
    public boolean takesDelayPoints() {
        return !usesPublicApi() || this == HISTOGRAM || this == SERIES;
    }

    /** The command-line word ({@code increment}, ...). */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The scenario named {@code word} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the valid words
     */
    public static StressTest parse(String word) {
        if (word != null) {
            for (StressTest t : values()) {
                if (t.word().equalsIgnoreCase(word.strip())) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("unknown stress test '" + word + "': use one of " + words());
    }

    /** The valid words, separated by '|'. */
    public static String words() {
        return Arrays.stream(values()).map(StressTest::word).collect(Collectors.joining("|"));
    }
}
