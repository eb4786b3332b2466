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
 * @param problems    one message per rejected setting
 */
public record Settings(Mode mode, int maxAttempts, FenceChoice fence, List<String> problems) {

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
    public static final int DEFAULT_MAX_ATTEMPTS = 8;
    public static final int MAX_MAX_ATTEMPTS = 1_000_000;

    /**
     * Settings; the problem list is copied.
     *
     * @param mode        {@code rseq4j.mode}
     * @param maxAttempts {@code rseq4j.maxAttempts}
     * @param fence       {@code rseq4j.fence}
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
        return new Settings(Mode.AUTO, DEFAULT_MAX_ATTEMPTS, FenceChoice.AUTO, List.of());
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
        int attempts = DEFAULT_MAX_ATTEMPTS;
        String raw = props.getProperty(MAX_ATTEMPTS);
        if (raw != null) {
            try {
                int v = Integer.parseInt(raw.strip());
                if (v < 1 || v > MAX_MAX_ATTEMPTS) {
                    throw new NumberFormatException();
                }
                attempts = v;
            } catch (NumberFormatException e) {
                problems.add("-D" + MAX_ATTEMPTS + "=" + raw + " ignored: accepted values are whole numbers from 1 to "
                        + MAX_MAX_ATTEMPTS + "; using " + DEFAULT_MAX_ATTEMPTS);
            }
        }
        return new Settings(mode, attempts, fence, problems);
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
