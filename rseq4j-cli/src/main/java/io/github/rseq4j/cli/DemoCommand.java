package io.github.rseq4j.cli;

import picocli.CommandLine.Command;

/** {@code rseq4j demo}: small programs that show rseq4j at work; each is a subcommand. */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = "Small programs that show rseq4j at work.",
        subcommands = {
                DemoMetricsCommand.class,
        })
public final class DemoCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
