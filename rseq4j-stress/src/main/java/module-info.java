/**
 * The rseq4j stress harness: the kernel's rseq {@code param_test} scenarios run against
 * rseq4j's per-CPU memory, with delay loops injected into generated critical sections and
 * threads forced onto the fallback path. It reaches rseq4j's internals through qualified
 * exports of the core module, never through public API added for it.
 */
module io.github.rseq4j.stress {
    requires io.github.rseq4j;
    exports io.github.rseq4j.stress;
}
