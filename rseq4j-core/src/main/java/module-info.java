/**
 * rseq4j: restartable sequences (rseq) and per-CPU data structures for the JVM.
 *
 * <p>Only {@code io.github.rseq4j} is exported. Everything under
 * {@code io.github.rseq4j.internal} (ABI layouts, the assembler, registration, the
 * generated operations, fences, the portable fallback) is an implementation detail.
 *
 * <p>rseq4j calls restricted methods of {@code java.lang.foreign}: run with
 * {@code --enable-native-access=io.github.rseq4j} on the module path, or
 * {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
module io.github.rseq4j {
    exports io.github.rseq4j;
}
