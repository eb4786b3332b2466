package io.github.rseq4j.stress;

import io.github.rseq4j.internal.abi.IndexField;
import io.github.rseq4j.internal.runtime.JitConstants;

import io.github.rseq4j.IndexMode;
import io.github.rseq4j.internal.runtime.RseqRuntime;
import io.github.rseq4j.internal.memory.SliceMemory;
import io.github.rseq4j.internal.memory.SliceOps;
import io.github.rseq4j.internal.codegen.OperationSet;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one stress scenario and checks it.
 *
 * <p>A run: fresh per-CPU memory in the configured index mode; the operations (the
 * process's, or a dedicated {@link OperationSet} generated with the configured delay loop,
 * cached per mode, point and loop count, since generated code is never freed); the
 * scenario's set-up; its background thread (memcpy's consumer, membarrier's manager, ...)
 * if any; the workers, released together, each doing operations until its rep count is
 * done or the duration is over, whichever comes first ({@link Run#another}); then the
 * checks, against the operations actually done. Every loop of every thread ends when the
 * timeout passes, and a run that is still going then fails with a message.
 *
 * <p>The structure scenarios ({@link StressTest#usesPublicApi()}) run on structures that
 * choose their own memory (indexed by CPU): unregistered workers and index mode mmcid do
 * not apply to them, nor delay points to those built through the public API (all but
 * {@link StressTest#HISTOGRAM}, whose engine gets the run's operations through a
 * {@code RuntimeContext}); a run asked for them goes ahead without them, with a note.
 *
 * <p>Aborts and fallbacks are the process-wide counters' deltas over the run, so runs
 * should not overlap.
 */
public final class StressRunner {
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long STRAGGLER_GRACE_MILLIS = 2000;
    private static final Map<String, OperationSet> DELAYED = new ConcurrentHashMap<>();

    private final StressConfig config;
    private final Consumer<String> progress;
    private boolean membarrierFence = true;
    private Fault fault;

    /**
     * @param progress receives progress lines (the start, every 2 s, details and failures);
     *                 the caller prints {@link StressResult#line()} itself
     */
    public StressRunner(StressConfig config, Consumer<String> progress) {
        this.config = Objects.requireNonNull(config, "config");
        this.progress = Objects.requireNonNull(progress, "progress");
    }

    /** Runs {@code config} without progress output. */
    public static StressResult run(StressConfig config) {
        return new StressRunner(config, s -> { }).run();
    }

    /** Runs {@code config}, sending progress lines to {@code progress}. */
    public static StressResult run(StressConfig config, Consumer<String> progress) {
        return new StressRunner(config, progress).run();
    }

    /** Test hook: the membarrier manager skips its fence, so its check must fail. */
    StressRunner withoutMembarrierFence() {
        membarrierFence = false;
        return this;
    }

    /** Test hook: the scenario makes the deliberate error {@code f} once, so its checks must fail. */
    StressRunner withFault(Fault f) {
        fault = Objects.requireNonNull(f, "fault");
        return this;
    }

    /**
     * Why this process cannot run {@code config}, or null when it can: the public-structure
     * scenarios always can (they index by CPU whatever the configured mode).
     */
    public static String unsupportedReason(StressConfig config) {
        return config.test().usesPublicApi() ? null : unsupportedReason(config.indexMode());
    }

    /** Why this process cannot use {@code mode} memory, or null when it can. */
    public static String unsupportedReason(IndexMode mode) {
        RseqRuntime rt = JitConstants.RUNTIME;
        if (rt.rseqMode() && mode == IndexMode.CONCURRENCY_ID && !rt.platform().mmCidUsable()) {
            return "index mode mmcid needs mm_cid (Linux 6.3+); this kernel's rseq feature size is "
                    + rt.platform().featureSize();
        }
        return null;
    }

    /**
     * The operations for {@code mode} with a delay loop of {@code loops} iterations at
     * {@code point}, generated once per combination. Rseq mode only.
     */
    static OperationSet delayedOps(IndexField field, int point, long loops) {
        RseqRuntime rt = JitConstants.RUNTIME;
        if (!rt.rseqMode()) {
            throw new IllegalStateException("delay points need rseq mode: " + rt.modeReason());
        }
        return DELAYED.computeIfAbsent(field + "/" + point + "/" + loops,
                k -> rt.generateWithDelay(field, point, loops));
    }

    /**
     * Runs the scenario and checks it.
     *
     * @throws UnsupportedOperationException when this process cannot use the index mode
     *                                       ({@link #unsupportedReason})
     */
    public StressResult run() {
        RseqRuntime rt = JitConstants.RUNTIME;
        List<String> notes = new ArrayList<>();
        StressConfig effective = config.test().usesPublicApi() ? publicApiConfig(config, notes) : config;
        IndexMode mode = effective.indexMode();
        String unsupported = unsupportedReason(mode);
        if (unsupported != null) {
            throw new UnsupportedOperationException(unsupported);
        }
        String name = "stress " + config.test().word() + " index=" + StressConfig.indexWord(mode);
        SliceOps ops = SliceOps.DEFAULT;
        double delayNanos = 0;
        if (effective.delayPoint() != 0) {
            if (!rt.rseqMode()) {
                notes.add("delay points need rseq mode; this process runs in portable mode (" + rt.modeReason()
                        + "): running without them");
                effective = effective.withDelay(0, 0);
            } else {
                ops = SliceOps.of(rt.context().withOperations(delayedOps(field(mode), config.delayPoint(), config.delayLoops())));
                if (config.test() == StressTest.MEMBARRIER) {
                    delayNanos = DelayCalibration.nanosPerLoop();
                }
            }
        }
        Signaller signals = null;
        if (effective.signalMicros() != 0) {
            signals = new Signaller(effective.threads(), effective.signalMicros());
            String why = signals.unavailableReason();
            if (why != null) {
                notes.add(why + ": running without them");
                effective = effective.withSignalsEvery(0);
                signals = null;
            }
        }
        Signaller signaller = signals;
        SliceMemory memory = new SliceMemory(field(mode), ops.context().fences());
        long startNanos = System.nanoTime();
        Run run = new Run(effective, memory, ops, rt.rseqMode(), delayNanos, startNanos + config.timeout().toNanos());
        Scenario scenario = switch (config.test()) {
            case INCREMENT -> new IncrementScenario(run);
            case SPINLOCK -> new SpinLockScenario(run);
            case LIST -> new ListScenario(run);
            case BUFFER -> new BufferScenario(run);
            case MEMCPY -> new MemcpyScenario(run);
            case MEMBARRIER -> new MembarrierScenario(run, membarrierFence);
            case COUNTER -> new CounterScenario(run);
            case POOL -> new PoolScenario(run);
            case BUFFERPOOL -> new BufferPoolScenario(run);
            case RINGBUFFER -> new RingBufferScenario(run);
            case HISTOGRAM -> new HistogramScenario(run);
            case SERIES -> new SeriesScenario(run);
        };
        if (fault != null) {
            try {
                scenario.inject(fault);
            } catch (IllegalArgumentException e) {
                memory.close();
                throw e;
            }
        }
        scenario.setUp();

        progress.accept(name + ": " + config.threads() + (config.virtualThreads() ? " virtual" : " platform")
                + " workers x " + limits(config)
                + (effective.unregisteredWorkers() > 0 ? " (" + effective.unregisteredWorkers() + " unregistered)" : "")
                + ", " + memory.slices() + " slices" + (config.test().usesPublicApi() ? " (public API)" : "") + ", "
                + (rt.rseqMode()
                ? "rseq mode (" + word(rt.strategy()) + " registration, " + word(rt.fences().kind()) + " fence)"
                : "portable mode")
                + (effective.optionWords().isEmpty() ? "" : ", " + effective.optionWords()));
        notes.forEach(n -> progress.accept(name + ": note: " + n));

        long aborts0 = rt.aborts();
        StressResult.Fallbacks fallbacks0 = fallbacks(rt);

        // background thread first: it signals when the workers may start
        Thread background = null;
        Runnable loop = scenario.background();
        if (loop != null) {
            background = Thread.ofPlatform().daemon(true)
                    .name("stress-" + config.test().word() + "-" + backgroundRole())
                    .unstarted(guard(run, "background", () -> {
                        try {
                            loop.run();
                        } finally {
                            run.backgroundReady.countDown();
                        }
                    }));
            background.start();
            try {
                await(run, run.backgroundReady, "the background thread did not start");
            } catch (StressAbort e) {
                // recorded as the run's failure; the workers see it and end at once
            }
        }

        CountDownLatch gate = new CountDownLatch(1);
        Thread[] workers = new Thread[config.threads()];
        for (int i = 0; i < workers.length; i++) {
            Worker w = new Worker(run, i);
            Runnable body = guard(run, "worker " + i, () -> {
                await(run, gate, "the start signal never came");
                for (long rep = 0; run.another(rep); rep++) {
                    if (signaller != null) {
                        signaller.publish(w.index, rep);
                    }
                    scenario.operate(w, rep);
                    run.done.lazySet(w.index, rep + 1);
                }
            });
            String threadName = "stress-" + config.test().word() + "-" + i;
            workers[i] = config.virtualThreads() ? Thread.ofVirtual().name(threadName).unstarted(body)
                    : Thread.ofPlatform().daemon(true).name(threadName).unstarted(body);
        }
        for (Thread t : workers) {
            t.start();
        }
        Thread signalling = signaller == null ? null : Thread.ofPlatform().daemon(true)
                .name("stress-" + config.test().word() + "-signaller")
                .start(guard(run, "signaller", () -> signaller.loop(run)));
        long t0 = System.nanoTime();
        run.startClock(t0);
        gate.countDown();

        boolean stuck = !joinAll(run, workers, name, rt, aborts0);
        run.markWorkersDone();
        if (background != null && !stuck) {
            stuck = !join(run, background);
        }
        if (signalling != null && !join(run, signalling)) {
            run.fail("the signaller did not end");
        }
        if (stuck) {
            run.fail(run.timedOut()
                    ? "timeout after " + config.timeout().toSeconds() + " s: " + run.operationsDone()
                    + (config.repLimited() ? " of " + (long) config.threads() * config.reps() : "")
                    + " operations done" + (background != null && background.isAlive() ? ", the "
                    + backgroundRole() + " still running" : "")
                    : "threads did not end after the run failed");
            long until = System.currentTimeMillis() + STRAGGLER_GRACE_MILLIS;
            for (Thread t : workers) {
                joinQuietly(t, until);
            }
            if (background != null) {
                joinQuietly(background, until);
            }
        }
        boolean anyAlive = background != null && background.isAlive();
        for (Thread t : workers) {
            anyAlive |= t.isAlive();
        }

        Scenario.Verdict verdict;
        if (anyAlive) {
            verdict = new Scenario.Verdict(run.operationsDone(), "not checked: threads still running", List.of());
        } else {
            verdict = scenario.verify();
            scenario.tearDown();
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
        memory.close();

        List<String> failures = new ArrayList<>(run.failures());
        failures.addAll(verdict.problems());
        boolean passed = failures.isEmpty() && verdict.actual() == scenario.expected();
        if (failures.isEmpty() && !passed) {
            failures.add("expected " + scenario.expected() + ", found " + verdict.actual());
        }
        StressResult.Fallbacks fallbacks1 = fallbacks(rt);
        StressResult result = new StressResult(config.test(), mode, config.threads(), config.reps(),
                config.duration(), run.operationsDone(), effective.optionWords(), scenario.expected(), verdict.actual(),
                rt.aborts() - aborts0,
                new StressResult.Fallbacks(fallbacks1.notRegistered() - fallbacks0.notRegistered(),
                        fallbacks1.aborted() - fallbacks0.aborted(),
                        fallbacks1.stopped() - fallbacks0.stopped(),
                        fallbacks1.portable() - fallbacks0.portable()),
                passed, elapsed, verdict.details() + (signaller == null ? ""
                : (verdict.details().isEmpty() ? "" : " ") + "signals=" + signaller.sent()), failures, notes);
        if (!result.details().isEmpty()) {
            progress.accept(name + ": " + result.details());
        }
        if (result.fallbacks().total() > 0) {
            progress.accept(name + ": fallbacks " + result.fallbacks());
        }
        for (String f : failures) {
            progress.accept(name + ": FAILED: " + f);
        }
        return result;
    }

    /**
     * {@code c} as a public-structure scenario runs it: without delay points, unregistered
     * workers and index mode mmcid, each dropped with a note in {@code notes}.
     */
    static StressConfig publicApiConfig(StressConfig c, List<String> notes) {
        String what = c.test().word() + " uses rseq4j's public API";
        if (c.delayPoint() != 0 && !c.test().takesDelayPoints()) {
            notes.add("delay points do not apply: " + what + ", whose critical sections are the process's own"
                    + " (no delay loops): running without them");
            c = c.withDelay(0, 0);
        }
        if (c.unregisteredEvery() != 0) {
            notes.add("unregistered workers do not apply: " + what + ", which offers no way to force a thread"
                    + " onto the fallback path: every worker runs as it is");
            c = c.withUnregisteredEvery(0);
        }
        if (c.indexMode() != IndexMode.CPU_ID) {
            notes.add("index mode " + StressConfig.indexWord(c.indexMode()) + " does not apply: " + what
                    + ", whose structures index by CPU: running with index=cpu");
            c = c.withIndexMode(IndexMode.CPU_ID);
        }
        return c;
    }

    /** {@code 1000 reps}, {@code 2 s}, {@code 1000 reps or 2 s}. */
    private static String limits(StressConfig c) {
        return (c.repLimited() ? c.reps() + " reps" : "") + (c.repLimited() && c.timed() ? " or " : "")
                + (c.timed() ? StressConfig.secondsWord(c.duration()) + " s" : "");
    }

    /** What the scenario's background thread does, for thread names and messages. */
    private String backgroundRole() {
        return switch (config.test()) {
            case MEMCPY, RINGBUFFER -> "consumer";
            case COUNTER -> "collector";
            case HISTOGRAM, SERIES -> "taker";
            case POOL, BUFFERPOOL -> "rebalancer";
            default -> "manager";
        };
    }

    private static StressResult.Fallbacks fallbacks(RseqRuntime rt) {
        return new StressResult.Fallbacks(rt.stats().notRegistered(), rt.stats().aborted(), rt.stats().stopped(),
                rt.stats().portable());
    }

    /** The rseq field behind a public index mode. */
    static IndexField field(IndexMode mode) {
        return mode == IndexMode.CPU_ID ? IndexField.CPU_ID : IndexField.MM_CID;
    }

    private static String word(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Runs {@code body}, turning anything it throws into a failure of the run. */
    private static Runnable guard(Run run, String who, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (StressAbort e) {
                // the run failed or timed out; the reason is recorded already (or below)
                run.markUnwound();
            } catch (Throwable t) {
                run.fail(who + ": " + t);
            }
        };
    }

    private static void await(Run run, CountDownLatch latch, String problem) {
        try {
            long left = run.deadline() - System.nanoTime();
            if (!latch.await(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
                throw run.abort(problem);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw run.abort("interrupted");
        }
    }

    /** Joins the workers until the deadline, reporting progress; false when some are still running. */
    private boolean joinAll(Run run, Thread[] workers, String name, RseqRuntime rt, long aborts0) {
        long nextReport = System.nanoTime() + PROGRESS_NANOS;
        long total = (long) config.threads() * config.reps();
        long duration = config.duration().toNanos();
        try {
            for (Thread t : workers) {
                while (t.isAlive()) {
                    long now = System.nanoTime();
                    if (now - run.deadline() > 0) {
                        return false;
                    }
                    long wait = Math.min(run.deadline(), nextReport) - now;
                    t.join(Duration.ofNanos(Math.max(wait, TimeUnit.MILLISECONDS.toNanos(1))));
                    long at = System.nanoTime();
                    if (at - nextReport > 0) {
                        long done = run.operationsDone();
                        long percent = Math.max(config.repLimited() ? 100 * done / total : 0,
                                config.timed() ? 100 * run.elapsedOfDuration(at) / duration : 0);
                        progress.accept(String.format(Locale.ROOT, "%s: %d%% (%d%s operations), aborts %d",
                                name, Math.min(percent, 100), done, config.repLimited() ? " of " + total : "",
                                rt.aborts() - aborts0));
                        nextReport += PROGRESS_NANOS;
                    }
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.fail("interrupted while waiting for the workers");
            return false;
        }
    }

    private static boolean join(Run run, Thread t) {
        try {
            long left = run.deadline() - System.nanoTime();
            return left > 0 && t.join(Duration.ofNanos(left)) || !t.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            run.fail("interrupted while waiting for the background thread");
            return false;
        }
    }

    private static void joinQuietly(Thread t, long untilMillis) {
        long left = untilMillis - System.currentTimeMillis();
        if (left > 0) {
            try {
                t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
