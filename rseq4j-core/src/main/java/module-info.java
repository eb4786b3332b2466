/**
 * rseq4j: restartable sequences (rseq) and per-CPU data structures for the JVM.
 *
 * <p>Only {@code io.github.rseq4j} is exported to everyone. The internal packages form
 * one acyclic stack (see {@code docs/ARCHITECTURE.md}); a few are exported, qualified, to
 * the stress harness module, which drives the memory layer directly (forced fallbacks,
 * operations generated with delay loops).
 *
 * <p>rseq4j calls restricted methods of {@code java.lang.foreign}: run with
 * {@code --enable-native-access=io.github.rseq4j} on the module path, or
 * {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
module io.github.rseq4j {
    exports io.github.rseq4j;

    exports io.github.rseq4j.internal.abi to io.github.rseq4j.stress;
    exports io.github.rseq4j.internal.codegen to io.github.rseq4j.stress;
    exports io.github.rseq4j.internal.os to io.github.rseq4j.stress;
    exports io.github.rseq4j.internal.runtime to io.github.rseq4j.stress;
    exports io.github.rseq4j.internal.memory to io.github.rseq4j.stress;
    exports io.github.rseq4j.internal.structures to io.github.rseq4j.stress;
}
