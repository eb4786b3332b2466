package io.github.rseq4j.cli;

/**
 * A subcommand of {@code rseq4j} that lives in another module, found with
 * {@link java.util.ServiceLoader} when that module is on the class path: the rseq4j-bench
 * module's {@code bench} (its shaded jar, {@code rseq4j-bench.jar}, carries this CLI and the
 * benchmarks with the libraries they compare). It keeps the libraries only the benchmarks
 * use out of this module and its jar, while {@code bench} keeps the command line, the
 * help and the usage errors of every other command.
 */
public interface ExternalCommand {

    /**
     * The subcommand's name.
     *
     * @return the name, e.g. {@code bench}
     */
    String name();

    /**
     * A new instance of the subcommand: an object of a class annotated with picocli's
     * {@code @Command}.
     *
     * @return the command object
     */
    Object newCommand();
}
