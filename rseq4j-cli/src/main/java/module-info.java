/**
 * The rseq4j command line: {@code doctor}, {@code stress} and {@code bench}. Runs from the
 * shaded jar ({@code java -jar rseq4j.jar}) or from the module path
 * ({@code java --enable-native-access=io.github.rseq4j -p <jars> -m io.github.rseq4j.cli/io.github.rseq4j.cli.Main}).
 */
module io.github.rseq4j.cli {
    requires io.github.rseq4j;
    requires io.github.rseq4j.stress;
    requires info.picocli;
    requires org.agrona;
    requires java.management;

    opens io.github.rseq4j.cli to info.picocli;
}
