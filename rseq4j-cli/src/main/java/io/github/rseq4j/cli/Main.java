package io.github.rseq4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Properties;
import java.util.ServiceLoader;

/**
 * The {@code rseq4j} command line. Each subcommand is its own class in this package; to add
 * one, list its class in {@code subcommands} below (one line), or add it in
 * {@link #commandLine()} to keep the help's order. {@code bench} lives in the rseq4j-bench
 * module (its shaded jar, {@code rseq4j-bench.jar}, runs this class): it is found as an
 * {@link ExternalCommand} service, and where it is missing (this module's own jar) a
 * {@link BenchNotHereCommand} says where it is.
 */
@Command(name = "rseq4j",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Restartable sequences (rseq) for the JVM: diagnostics and tools.",
        subcommands = {
                HelpCommand.class,
                DoctorCommand.class,
                StressCommand.class,
        })
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests call {@code execute} on it with their own out/err. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // before the settings below, which apply to the subcommands present when they are made
        cl.addSubcommand(external("bench", BenchNotHereCommand.class));
        cl.addSubcommand(DemoCommand.class);
        Charset outCharset = System.out.charset();
        Charset errCharset = System.err.charset();
        cl.setOut(new PrintWriter(new OutputStreamWriter(System.out, outCharset), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(System.err, errCharset), true));
        cl.setParameterExceptionHandler((e, args) -> usageError(e.getCommandLine(), e.getMessage()));
        return cl;
    }

    /**
     * The command called {@code name} of an {@link ExternalCommand} on the class path, else
     * {@code missing} (the command that says where to find it).
     */
    private static Object external(String name, Class<?> missing) {
        for (ExternalCommand c : ServiceLoader.load(ExternalCommand.class, Main.class.getClassLoader())) {
            if (c.name().equals(name)) {
                return c.newCommand();
            }
        }
        return missing;
    }

    /**
     * The one format of a usage error, for every command: {@code "rseq4j stress: <what>"},
     * then {@code "Try 'rseq4j stress --help'."} (a command of commands, such as
     * {@code rseq4j} or {@code demo}, prints its usage instead, which lists them). Picocli's
     * own parse errors, the commands' checks and {@code stress} all go through it.
     *
     * @param cl      the command the error is about
     * @param message what is wrong
     * @return the exit status of a usage error, 2
     */
    static int usageError(CommandLine cl, String message) {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        err.println(name + ": " + message);
        if (cl.getSubcommands().isEmpty()) {
            err.println("Try '" + name + " --help'.");
        } else {
            cl.usage(err);
        }
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * "—" if standard output can show it, else "-".
     *
     * @return the dash to print
     */
    public static String dash() {
        return System.out.charset().newEncoder().canEncode('\u2014') ? "\u2014" : "-";
    }

    /**
     * This tool's version, from the build.
     *
     * @return the version, or {@code unknown}
     */
    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "").trim();
                if (!v.isEmpty() && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "unknown";
    }

    /** Java version and vendor, e.g. {@code 25.0.3 (Eclipse Adoptium)}. */
    static String javaVersion() {
        return Runtime.version() + " (" + System.getProperty("java.vendor", "?") + ")";
    }

    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                    "rseq4j " + version(),
                    "Java " + javaVersion() + ", " + System.getProperty("java.home"),
                    "OS " + System.getProperty("os.name") + " " + System.getProperty("os.version")
                            + " " + System.getProperty("os.arch"),
            };
        }
    }
}
