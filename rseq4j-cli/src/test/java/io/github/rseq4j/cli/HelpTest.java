package io.github.rseq4j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Help pages show whole sentences; usage errors have one format. */
class HelpTest {

    @Test
    void everyCommandsSummaryIsOneWholeSentence() {
        List<String> cut = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        check(Main.commandLine(), cut, seen);
        assertFalse(seen.isEmpty());
        // picocli lists a subcommand with the first line of its description: that line must
        // end a sentence, or `--help` shows it cut off mid-sentence
        assertEquals(List.of(), cut, "summaries cut off mid-sentence");
    }

    @Test
    void everyCommandReportsAUsageErrorTheSameWay() {
        // a check of the command (bench, demo metrics), picocli's own parse error, stress's check
        for (String[] args : List.of(new String[] {"bench", "--only", "nonsense"},
                new String[] {"demo", "metrics", "--threads", "0"},
                new String[] {"doctor", "--no-such-option"},
                new String[] {"stress", "--threads", "0"})) {
            Object[] r = DoctorCommandTest.run(args);
            String err = (String) r[2];
            String name = "rseq4j " + String.join(" ", args).replaceFirst(" --.*", "");
            String[] lines = err.split("\\R");
            assertEquals(2, r[0], err);
            assertEquals(2, lines.length, err);
            assertTrue(lines[0].startsWith(name + ": "), err);
            assertEquals("Try '" + name + " --help'.", lines[1], err);
        }
    }

    private static void check(CommandLine cl, List<String> cut, List<String> seen) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandLine.Model.CommandSpec spec = sub.getCommandSpec();
            String[] header = spec.usageMessage().header();
            String[] description = spec.usageMessage().description();
            String summary = header.length > 0 ? header[0] : description.length > 0 ? description[0] : "";
            seen.add(spec.qualifiedName());
            if (!summary.strip().endsWith(".")) {
                cut.add(spec.qualifiedName() + ": " + summary);
            }
            check(sub, cut, seen);
        }
    }
}
