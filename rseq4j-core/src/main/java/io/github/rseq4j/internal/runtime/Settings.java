package io.github.rseq4j.internal.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * rseq4j's system properties, read and validated once.
 *
 * <p>A bad value never fails class initialisation: the setting keeps its default, and the
 * problem is reported once (a {@code System.Logger} warning, {@code Rseq.status()} and
 * {@code doctor}) with the property name and the accepted values.
 *
 * @param mode        {@code rseq4j.mode}
 * @param maxAttempts {@code rseq4j.maxAttempts}: how many times a critical section may start
 *                    before its operation takes the stop-and-fence path
 * @param fence       {@code rseq4j.fence}
 * @param stopWaitSeconds {@code rseq4j.stopWaitSeconds}: how long an operation on the
 *                    stop-and-fence path waits for a free slice before it throws
 * @param problems    one message per rejected setting
 */
public record Settings(Mode mode, int maxAttempts, FenceChoice fence, int stopWaitSeconds, List<String> problems) {

    /** {@code rseq4j.mode}: which mode to use. */
    public enum Mode {
        /** rseq where the machine supports it, else portable (the default). */
        AUTO,
        /** Same as AUTO: rseq where possible (portable mode remains the fallback). */
        RSEQ,
        /** Portable mode always ({@code fallback}, its name before 0.1.0, is still accepted). */
        PORTABLE
    }

    /** {@code rseq4j.fence}: how other CPUs are fenced. */
    public enum FenceChoice {
        /** membarrier(PRIVATE_EXPEDITED_RSEQ) where available, else the affinity method (the default). */
        AUTO,
        /** The affinity method even where membarrier exists. */
        AFFINITY
    }

    public static final String MODE = "rseq4j.mode";
    public static final String MAX_ATTEMPTS = "rseq4j.maxAttempts";
    public static final String FENCE = "rseq4j.fence";
    public static final String STOP_WAIT_SECONDS = "rseq4j.stopWaitSeconds";
    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final int MAX_MAX_ATTEMPTS = 1_000_000;
    public static final int DEFAULT_STOP_WAIT_SECONDS = 10;
    public static final int MAX_STOP_WAIT_SECONDS = 86_400;

    /**
     * Settings; the problem list is copied.
     *
     * @param mode        {@code rseq4j.mode}
     * @param maxAttempts {@code rseq4j.maxAttempts}
     * @param fence       {@code rseq4j.fence}
     * @param stopWaitSeconds {@code rseq4j.stopWaitSeconds}
     * @param problems    one message per rejected setting
     */
    public Settings {
        problems = List.copyOf(problems);
    }

    /**
     * The defaults.
     *
     * @return the settings used when no {@code rseq4j.*} property is set
     */
    public static Settings defaults() {
        return new Settings(Mode.AUTO, DEFAULT_MAX_ATTEMPTS, FenceChoice.AUTO, DEFAULT_STOP_WAIT_SECONDS, List.of());
    }

    /**
     * Reads and validates the settings from {@code props}.
     *
     * @param props the properties to read, normally {@link System#getProperties()}
     * @return the settings, with the default for every rejected value and one problem
     *         message for each
     */
    public static Settings from(Properties props) {
        List<String> problems = new ArrayList<>();
        // "fallback": the portable mode's name before 0.1.0
        Mode mode = parseEnum(props, MODE, Mode.class, Mode.AUTO, Map.of("FALLBACK", Mode.PORTABLE), problems);
        FenceChoice fence = parseEnum(props, FENCE, FenceChoice.class, FenceChoice.AUTO, Map.of(), problems);
        int attempts = parseWhole(props, MAX_ATTEMPTS, MAX_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS, problems);
        int stopWait = parseWhole(props, STOP_WAIT_SECONDS, MAX_STOP_WAIT_SECONDS, DEFAULT_STOP_WAIT_SECONDS, problems);
        return new Settings(mode, attempts, fence, stopWait, problems);
    }

    /** The whole number from 1 to {@code max} that {@code props} names for {@code name}, else {@code dflt}. */
    private static int parseWhole(Properties props, String name, int max, int dflt, List<String> problems) {
        String raw = props.getProperty(name);
        if (raw == null) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(raw.strip());
            if (v >= 1 && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add("-D" + name + "=" + raw + " ignored: accepted values are whole numbers from 1 to " + max
                + "; using " + dflt);
        return dflt;
    }

    /** The constant {@code props} names for {@code name} (case-insensitive), or one of {@code aliases} (upper case). */
    private static <E extends Enum<E>> E parseEnum(Properties props, String name, Class<E> type, E dflt,
                                                   Map<String, E> aliases, List<String> problems) {
        String raw = props.getProperty(name);
        if (raw == null) {
            return dflt;
        }
        String v = raw.strip().toUpperCase(Locale.ROOT);
        if (aliases.containsKey(v)) {
            return aliases.get(v);
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(v)) {
                return e;
            }
        }
        List<String> accepted = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            accepted.add(e.name().toLowerCase(Locale.ROOT));
        }
        problems.add("-D" + name + "=" + raw + " ignored: accepted values are " + String.join(", ", accepted)
                + "; using " + dflt.name().toLowerCase(Locale.ROOT));
        return dflt;
    }
}
