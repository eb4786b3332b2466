package io.github.rseq4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code rseq4j bench} where the benchmarks are not on the class path (this module's jar,
 * {@code rseq4j.jar}): a usage error that says where they are. The real command is the
 * rseq4j-bench module's, found as an {@link ExternalCommand}.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = {
                "Measure rseq4j against the JDK and other libraries.",
                "The benchmarks are in the rseq4j-bench module, not in this jar: run",
                "./rseq4j bench from the repository, or java -jar rseq4j-bench/target/rseq4j-bench.jar",
                "bench (built by ./rseq4j build). How to run them: docs/BENCHMARKS.md.",
        })
public final class BenchNotHereCommand implements Callable<Integer> {

    /** What the user asked for, whatever it was: the answer is the same. */
    @Unmatched
    List<String> args;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return Main.usageError(spec.commandLine(), "the benchmarks are not in this jar: run ./rseq4j bench "
                + "from the repository, or java -jar rseq4j-bench/target/rseq4j-bench.jar bench (built by "
                + "./rseq4j build)");
    }
}
