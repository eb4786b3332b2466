package io.github.rseq4j.cli;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.stress.StressConfig;
import io.github.rseq4j.stress.StressResult;
import io.github.rseq4j.stress.StressRunner;
import io.github.rseq4j.stress.StressTest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code rseq4j stress}: the kernel's rseq param_test scenarios against rseq4j's per-CPU
 * operations, and the public per-CPU structures under the same kind of load, with exact
 * checks. Workers run for a rep count ({@code --reps}), a duration ({@code --seconds}) or
 * whichever of the two comes first. The last line printed ends in PASS or FAIL.
 */
@Command(name = "stress",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Stress the per-CPU operations and check the results exactly.",
                "",
                "N workers each do R operations (--reps) of one scenario, or keep going",
                "for S seconds (--seconds); the checks use the operations actually done.",
                "The kernel's param_test scenarios, on the harness's per-CPU memory:",
                "  increment   add 1 to a per-CPU counter; the sum must be the operations",
                "  spinlock    a per-CPU spin lock guards a plain increment; same sum",
                "  list        pop a node of a per-CPU list, push it back; nodes conserved",
                "  buffer      the same with bounded per-CPU arrays (param_test's buffer)",
                "  memcpy      producers copy records into per-CPU rings, one consumer",
                "              drains them: each arrives once, intact, in ring order",
                "  membarrier  a manager flips the active list and fences; the inactive",
                "              list must never change after the fence",
                "The public structures, through their public API only:",
                "  counter     PerCpuCounter adds while a collector calls sumThenReset();",
                "              intervals + final sum must equal everything added",
                "  pool        PerCpuPool acquire/acquire(Duration)/lease and release with",
                "              a rebalancer: no object held twice, every object back",
                "  bufferpool  the same with PerCpuBufferPool; each holder stamps its",
                "              buffer and checks the stamp before release",
                "  ringbuffer  PerCpuRingBuffer (WAIT) writers, one consumer: each record",
                "              arrives once, intact, in order per producer per ring",
                "  histogram   PerCpuHistogram's engine, built with the run's critical",
                "              sections (delay points apply): record(v), record(v, n) and",
                "              clamped values while a taker calls snapshotThenReset();",
                "              every interval whole, every record in exactly one",
                "  series      HistogramGroup's engine, built the same way: records into",
                "              64 series sharing one per-CPU path while a taker resets the",
                "              group and closes and replaces series: every interval whole,",
                "              every record in exactly one, or dropped with its closed series",
                "  all         every scenario; the kernel's in both index modes unless",
                "              --index is given, the public structures' once",
                "The public structures choose their own memory (by CPU) and critical",
                "sections: --delay-point (except histogram, series), --unregistered-every and",
                "--index mmcid do not apply to them; their runs go ahead without those,",
                "with a note.",
                "",
                "Each run ends with its result line, which ends in PASS or FAIL and has the",
                "same fields in the same order for every scenario:",
                "  stress SCENARIO index=cpu|mmcid threads=N reps=R seconds=S ops=O",
                "  [options] check=WHAT expected=E actual=A aborts=A fallbacks=F",
                "  elapsed=Ts PASS|FAIL",
                "reps= and seconds= are the limits (- for none); ops= the operations the",
                "workers did; the options are the non-default ones (delay=, every=,",
                "virtual, unregistered-every=, signals=); expected= is the exact",
                "total the scenario must reach and actual= what it found, and check= says",
                "what they count: counter-sum (increment, spinlock, membarrier: one per",
                "operation), nodes (list, buffer), records (memcpy, ringbuffer: each",
                "received once; histogram, series: record(v, n) counts n; series: records",
                "in intervals + dropped ones), sum-of-adds (counter:",
                "every increment, decrement and add), objects-back or buffers-back (pool,",
                "bufferpool: back in the pool at the end, its capacity); aborts=",
                "critical-section aborts; fallbacks= operations completed off the rseq",
                "fast path. A run that ends in an exception prints - for what it did not",
                "count. With --test all the last line sums up the runs.",
                "Exit status: 0 PASS, 1 FAIL, 2 bad arguments.",
        })
public final class StressCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--test", paramLabel = "TEST", defaultValue = "all",
            description = "increment, spinlock, list, buffer, memcpy, membarrier, counter, pool, bufferpool,"
                    + " ringbuffer, histogram, series or all (default: ${DEFAULT-VALUE}).")
    String test;

    @Option(names = "--threads", paramLabel = "N",
            description = "Workers (default: 6 x available processors).")
    Integer threads;

    @Option(names = "--reps", paramLabel = "R",
            description = "Operations per worker (default: 1000; no limit with --seconds). With --seconds too,"
                    + " a worker stops at whichever comes first.")
    Integer reps;

    @Option(names = "--seconds", paramLabel = "S",
            description = "Run each worker for S seconds instead of a rep count (1 to " + MAX_SECONDS + "). With"
                    + " --reps too, a worker stops after R operations or S seconds, whichever comes first.")
    Long seconds;

    @Option(names = "--index", paramLabel = "cpu|mmcid",
            description = "Index per-CPU memory by CPU or by mm_cid (default: cpu; both for --test all).")
    String index;

    @Option(names = "--delay-point", paramLabel = "P", defaultValue = "0",
            description = "Inject a busy loop into the generated code: 1 inside every critical section after "
                    + "the index is read, 2 inside just before the commit, 3 after the commit. Rseq mode only.")
    int delayPoint;

    @Option(names = "--delay-loops", paramLabel = "L",
            description = "Iterations of the injected loop (default with --delay-point: 10000).")
    Long delayLoops;

    @Option(names = "--every", paramLabel = "M", defaultValue = "0",
            description = "Pause around every M-th operation of each worker (with --yield or --sleep-ms).")
    int every;

    @Option(names = "--yield", description = "With --every: Thread.yield().")
    boolean yield;

    @Option(names = "--sleep-ms", paramLabel = "S", description = "With --every: sleep S milliseconds.")
    Long sleepMs;

    @Option(names = "--virtual", description = "Run the workers as virtual threads.")
    boolean virtual;

    @Option(names = "--signal-every-us", paramLabel = "US", defaultValue = "0",
            description = "Send every worker's thread a signal (SIGPIPE, which the JVM ignores) every US"
                    + " microseconds, 1 to 1000000: critical sections are aborted by signal delivery too.")
    long signalEveryUs;

    @Option(names = "--unregistered-every", paramLabel = "M", defaultValue = "0",
            description = "Every M-th worker acts as unregistered: all its operations take the fallback path.")
    int unregisteredEvery;

    @Option(names = "--timeout-s", paramLabel = "SECONDS",
            description = "A run still going after this long fails (default: " + DEFAULT_TIMEOUT_S + "; with --seconds"
                    + " S: S + " + DEFAULT_TIMEOUT_S + "). Must be larger than --seconds.")
    Long timeoutSeconds;

    static final int PASS = 0, FAIL = 1, USAGE = 2;
    static final long DEFAULT_TIMEOUT_S = 120;
    static final long MAX_TIMEOUT_S = 86_400;
    static final long MAX_SECONDS = MAX_TIMEOUT_S - 1;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<StressConfig> runs;
        try {
            runs = configs();
        } catch (IllegalArgumentException e) {
            return Main.usageError(spec.commandLine(), e.getMessage());
        }
        boolean all = runs.size() > 1;
        int passed = 0, failed = 0, skipped = 0;
        long aborts = 0, fallbacks = 0;
        long t0 = System.nanoTime();
        for (StressConfig c : runs) {
            String unsupported = StressRunner.unsupportedReason(c);
            if (unsupported != null) {
                if (!all) {
                    err.println("rseq4j stress: " + unsupported);
                    err.flush();
                    return USAGE;
                }
                out.println("stress " + c.test().word() + " index=" + StressConfig.indexWord(c.indexMode())
                        + " SKIPPED: " + unsupported);
                out.flush();
                skipped++;
                continue;
            }
            StressResult r;
            long started = System.nanoTime();
            try {
                r = StressRunner.run(c, line -> {
                    out.println(line);
                    out.flush();
                });
            } catch (RuntimeException | Error e) {
                out.println("stress " + c.test().word() + " index=" + StressConfig.indexWord(c.indexMode())
                        + ": FAILED: " + e);
                e.printStackTrace(err);
                err.flush();
                out.println(StressResult.errorLine(c, Duration.ofNanos(System.nanoTime() - started)));
                out.flush();
                failed++;
                continue;
            }
            out.println(r.line());
            out.flush();
            aborts += r.aborts();
            fallbacks += r.fallbacks().total();
            if (r.passed()) {
                passed++;
            } else {
                failed++;
            }
        }
        if (all) {
            String opts = runs.getFirst().optionWords();
            out.println("stress all threads=" + runs.getFirst().threads() + " " + runs.getFirst().limitWords()
                    + (opts.isEmpty() ? "" : " " + opts) + " runs=" + (passed + failed) + " passed=" + passed
                    + " failed=" + failed + (skipped > 0 ? " skipped=" + skipped : "") + " aborts=" + aborts
                    + " fallbacks=" + fallbacks + " elapsed="
                    + String.format(java.util.Locale.ROOT, "%.2f", (System.nanoTime() - t0) / 1e9) + "s "
                    + (failed == 0 && passed > 0 ? "PASS" : "FAIL"));
            out.flush();
        }
        return failed == 0 && passed > 0 ? PASS : FAIL;
    }

    /** The runs the options ask for; IllegalArgumentException with a clear message when they are wrong. */
    List<StressConfig> configs() {
        boolean all = "all".equalsIgnoreCase(test.strip());
        List<StressTest> tests = all ? List.of(StressTest.values()) : List.of(StressTest.parse(test));
        List<IndexMode> modes;
        if (index != null) {
            modes = List.of(StressConfig.parseIndex(index));
        } else {
            modes = all ? List.of(IndexMode.CPU_ID, IndexMode.CONCURRENCY_ID) : List.of(IndexMode.CPU_ID);
        }
        if (every < 0) {
            throw new IllegalArgumentException("--every must be >= 1: " + every);
        }
        if (yield && sleepMs != null) {
            throw new IllegalArgumentException("--yield and --sleep-ms exclude each other");
        }
        if (delayLoops != null && delayPoint == 0) {
            throw new IllegalArgumentException("--delay-loops needs --delay-point 1, 2 or 3");
        }
        if (every == 0 && (yield || sleepMs != null)) {
            throw new IllegalArgumentException((yield ? "--yield" : "--sleep-ms") + " needs --every M");
        }
        if (every != 0 && !yield && sleepMs == null) {
            throw new IllegalArgumentException("--every " + every + " needs --yield or --sleep-ms S");
        }
        if (seconds != null && (seconds < 1 || seconds > MAX_SECONDS)) {
            throw new IllegalArgumentException("--seconds must be 1 to " + MAX_SECONDS + ": " + seconds);
        }
        long timeout = timeoutSeconds != null ? timeoutSeconds
                : seconds != null ? Math.min(MAX_TIMEOUT_S, seconds + DEFAULT_TIMEOUT_S) : DEFAULT_TIMEOUT_S;
        if (timeout < 1 || timeout > MAX_TIMEOUT_S) {
            throw new IllegalArgumentException("--timeout-s must be 1 to " + MAX_TIMEOUT_S + ": " + timeout);
        }
        if (seconds != null && timeout <= seconds) {
            throw new IllegalArgumentException("--timeout-s " + timeout + " must be larger than --seconds " + seconds
                    + " (a run gets the duration, then time to finish and check)");
        }
        int r = reps != null ? reps : seconds != null ? 0 : StressConfig.DEFAULT_REPS;
        if (reps != null && reps < 1) {
            throw new IllegalArgumentException("--reps must be 1 to " + StressConfig.MAX_REPS + ": " + reps);
        }
        Duration duration = seconds != null ? Duration.ofSeconds(seconds) : Duration.ZERO;
        long loops = delayPoint == 0 ? 0 : delayLoops == null ? 10_000 : delayLoops;
        List<StressConfig> runs = new ArrayList<>();
        for (IndexMode mode : modes) {
            for (StressTest t : tests) {
                if (t.usesPublicApi() && mode != modes.getFirst()) {
                    continue; // the public structures index by CPU whatever the mode: once is enough
                }
                StressConfig c = StressConfig.of(t, mode)
                        .withTimeout(Duration.ofSeconds(timeout))
                        .withLimits(r, duration)
                        .withDelay(delayPoint, loops)
                        .withVirtualThreads(virtual)
                        .withUnregisteredEvery(unregisteredEvery)
                        .withSignalsEvery(signalEveryUs);
                if (threads != null) {
                    c = c.withThreads(threads);
                }
                if (every != 0) {
                    c = yield ? c.withYieldEvery(every) : c.withSleepEvery(every, sleepMs);
                }
                runs.add(c);
            }
        }
        return runs;
    }
}
