package io.github.rseq4j.bench.cli;

import io.github.rseq4j.cli.Json;

/**
 * The {@code --json} report of {@code rseq4j bench}: one JSON object.
 *
 * <p>Per throughput row, beside the measured figures: {@code kind} (rseq4j, alternative,
 * control), {@code best_alternative} (the fastest alternative of the row's group at its
 * thread count) with its {@code best_alternative_ns_per_op}, {@code ratio_vs_best} (this
 * row's ns/op / the best alternative's: above 1 slower, below 1 faster), and for rseq4j
 * rows {@code verdict} (win, loss, same) and {@code vs_best} (in words, "2.9x slower").
 * {@code baseline} and {@code ratio} keep their old meaning: the group's fixed reference
 * row (AtomicLong, ConcurrentLinkedQueue ...) and ns/op divided by its ns/op. The memory
 * rows get the same new fields (in bytes per counter, or per series for the rows of
 * {@code unit} series, which also carry {@code heap_bytes_per_series}), and {@code summary}
 * lists the comparisons the reports open with.
 */
public final class JsonReport {
    private JsonReport() {
    }

    /** The report as a JSON object. */
    public static Json.Obj render(BenchReport report) {
        Json.Arr rows = Json.array();
        for (BenchResult r : report.results()) {
            Harness.Measurement m = r.m();
            Json.Obj o = Json.object()
                    .put("name", r.c().displayName())
                    .put("threads", r.c().threads())
                    .put("ns_per_op", m == null ? null : m.nsPerOp())
                    .put("topic", r.c().topic())
                    .put("group", r.c().group())
                    .put("virtual", r.c().virtual())
                    .put("baseline", r.baselineName())
                    .put("ratio", Double.isFinite(r.ratio()) ? r.ratio() : null)
                    .put("ns_per_op_min", m == null ? null : m.minNsPerOp())
                    .put("ns_per_op_max", m == null ? null : m.maxNsPerOp())
                    .put("aggregate_ns_per_op", m == null ? null : m.aggregateNsPerOp())
                    .put("ops_per_thread", m == null ? null : m.opsPerThread())
                    .put("runs", m == null ? null : m.runs())
                    .put("check", r.check())
                    .put("note", r.note())
                    .put("kind", r.c().kind().label());
            r.fields().forEach(o::put);
            comparison(o, r.vsBest(), r.c().kind(), "best_alternative_ns_per_op");
            rows.add(o);
        }
        Json.Arr mem = Json.array();
        for (MemorySuite.MemoryResult m : report.memory()) {
            String per = "_per_" + m.unit();
            Json.Arr classes = Json.array();
            for (MemorySuite.ClassShare c : m.classes()) {
                classes.add(Json.object().put("class", c.className()).put("instances" + per, c.instancesPerUnit())
                        .put("bytes" + per, c.bytesPerUnit()));
            }
            Json.Obj o = Json.object()
                    .put("name", m.name())
                    .put("unit", m.unit())
                    .put(m.units(), m.count());
            if (m.unit().equals(MemorySuite.COUNTER)) {
                o.put("hammer_threads", MemorySuite.HAMMER_THREADS)
                        .put("overlapped_increments_per_thread", m.overlappedPerThread());
            } else {
                o.put(SeriesSuite.HEAP_FIELD, m.retainedHeapPerUnit());
            }
            o.put("setup", m.setup())
                    .put("bytes" + per, m.totalPerUnit())
                    .put("retained_heap_bytes" + per, m.retainedHeapPerUnit())
                    .put("histogram_heap_bytes" + per,
                            Double.isFinite(m.histogramHeapPerUnit()) ? m.histogramHeapPerUnit() : null)
                    .put("native_bytes" + per, m.nativePerUnit())
                    .put("classes", classes)
                    .put("detail", m.detail())
                    .put("check", m.check())
                    .put("kind", m.kind().label());
            comparison(o, m.vsBest(), m.kind(), "best_alternative_bytes" + per);
            mem.add(o);
        }
        MachineFacts f = report.machine();
        MachineFacts.Fallbacks fb = f.fallbacks();
        Harness.Settings settings = report.settings();
        return Json.object()
                .put("results", rows)
                .put("memory", mem)
                .put("summary", summary(report.summary()))
                .put("machine", Json.object()
                        .put("cpu_model", f.cpuModel())
                        .put("available_processors", f.availableProcessors())
                        .put("possible_cpus", f.possibleCpus())
                        .put("os", f.os())
                        .put("kernel", f.kernel())
                        .put("arch", f.arch())
                        .put("java", f.java())
                        .put("rseq4j_version", f.rseq4jVersion())
                        .put("mode", f.mode())
                        .put("mode_reason", f.modeReason())
                        .put("registration", f.registration())
                        .put("load_average_start", report.loadStart())
                        .put("load_average_end", report.loadEnd())
                        .put("fence", f.fence()))
                .put("method", Json.object()
                        .put("definition", Wording.DEFINITION)
                        .put("warmup_ms", settings.warmupNanos() / 1e6)
                        .put("run_ms", settings.runNanos() / 1e6)
                        .put("runs", settings.runs())
                        .put("quick", report.quick())
                        .put("comparison", Wording.VS_BEST)
                        .put("same_within", Comparison.SAME_WITHIN))
                .put("mode", f.mode())
                .put("fallbacks", Json.object()
                        .put("not_registered", fb.notRegistered())
                        .put("aborted", fb.aborted())
                        .put("stopped", fb.stopped())
                        .put("portable", fb.portable())
                        .put("aborts", fb.aborts()));
    }

    /** The comparison fields of a row; null where they do not apply. */
    private static void comparison(Json.Obj o, Comparison c, RowKind kind, String bestValueField) {
        boolean verdict = c != null && kind == RowKind.RSEQ4J;
        o.put("best_alternative", c == null ? null : c.bestAlternative())
                .put(bestValueField, c == null ? null : c.bestValue())
                .put("ratio_vs_best", c == null ? null : c.ratio())
                .put("verdict", verdict ? c.verdict().label() : null)
                .put("vs_best", verdict ? c.words() : null);
    }

    private static Json.Obj summary(Summary s) {
        Json.Arr lines = Json.array();
        for (Summary.Line l : s.lines()) {
            Json.Arr entries = Json.array();
            for (Summary.Entry e : l.entries()) {
                Comparison c = e.vsBest();
                entries.add(Json.object()
                        .put("name", e.name())
                        .put("ratio_vs_best", c == null ? null : c.ratio())
                        .put("verdict", c == null ? null : c.verdict().label())
                        .put("vs_best", Wording.verdictWords(e, l)));
            }
            lines.add(Json.object()
                    .put("topic", l.topic())
                    .put("group", l.group())
                    .put("virtual", l.virtual())
                    .put("threads", l.threads() > 0 ? l.threads() : null)
                    .put("unit", l.metric().unit())
                    .put("best_alternative", l.bestAlternative())
                    .put("best_alternative_value", Double.isFinite(l.bestValue()) ? l.bestValue() : null)
                    .put("rseq4j", entries));
        }
        return Json.object()
                .put("wins", s.count(Comparison.Verdict.WIN))
                .put("losses", s.count(Comparison.Verdict.LOSS))
                .put("same", s.count(Comparison.Verdict.SAME))
                .put("not_compared", s.notCompared())
                .put("comparisons", lines);
    }
}
