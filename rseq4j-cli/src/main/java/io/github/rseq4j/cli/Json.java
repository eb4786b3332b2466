package io.github.rseq4j.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small JSON writer: ordered objects and arrays built in code, written compact or
 * indented. No parsing, no reflection, no dependencies.
 *
 * <p>Values may be {@code null}, {@link CharSequence}, {@link Character}, {@link Boolean},
 * integral {@link Number}s, {@link Double}/{@link Float} (NaN and infinities are written as
 * {@code null}, JSON has no spelling for them), {@link BigInteger}, {@link BigDecimal},
 * {@link Enum} (its name), {@link Obj}, {@link Arr}, any {@link Iterable}, {@code int[]},
 * {@code long[]}, {@code double[]}, and {@code Map}s with string keys. Anything else is
 * rejected when it is added.
 *
 * <p>Output is pure ASCII: every character outside printable ASCII is written as a
 * {@code \\uXXXX} escape, so the text survives any terminal or file encoding.
 *
 * <pre>{@code
 * String s = Json.object()
 *         .put("mode", "rseq")
 *         .put("cpus", List.of(0, 1))
 *         .put("fallbacks", Json.object().put("aborted", 0))
 *         .toPrettyString();
 * }</pre>
 */
public final class Json {

    private Json() {
    }

    /** A new, empty object. */
    public static Obj object() {
        return new Obj();
    }

    /** A new, empty array. */
    public static Arr array() {
        return new Arr();
    }

    /** A new array holding {@code values}. */
    public static Arr array(Iterable<?> values) {
        Arr a = new Arr();
        for (Object v : values) {
            a.add(v);
        }
        return a;
    }

    /** {@code s} as a JSON string literal, quotes included. */
    public static String quote(CharSequence s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(s, sb);
        return sb.toString();
    }

    /** Appends {@code s} as a JSON string literal, quotes included. */
    public static void quote(CharSequence s, StringBuilder out) {
        out.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        unicodeEscape(c, out);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static void unicodeEscape(char c, StringBuilder out) {
        out.append("\\u");
        String hex = Integer.toHexString(c);
        for (int k = hex.length(); k < 4; k++) {
            out.append('0');
        }
        out.append(hex);
    }

    /** {@code value} written compactly, e.g. {@code {"a":[1,2]}}. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        writeValue(checked(value), sb, -1, 0);
        return sb.toString();
    }

    /** {@code value} written with two-space indentation; arrays of scalars stay on one line. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        writeValue(checked(value), sb, 0, 0);
        return sb.toString();
    }

    /** An ordered JSON object. Putting an existing key replaces its value in place. */
    public static final class Obj {
        private final Map<String, Object> members = new LinkedHashMap<>();

        private Obj() {
        }

        /** Sets {@code key} to {@code value} (see {@link Json} for the accepted types). */
        public Obj put(String key, Object value) {
            members.put(Objects.requireNonNull(key, "key"), checked(value));
            return this;
        }

        public Obj put(String key, boolean value) {
            return put(key, Boolean.valueOf(value));
        }

        public Obj put(String key, long value) {
            return put(key, Long.valueOf(value));
        }

        public Obj put(String key, double value) {
            return put(key, Double.valueOf(value));
        }

        /** The members, in insertion order (read-only view). */
        public Map<String, Object> members() {
            return Collections.unmodifiableMap(members);
        }

        /** Compact JSON. */
        @Override
        public String toString() {
            return write(this);
        }

        /** Indented JSON. */
        public String toPrettyString() {
            return writePretty(this);
        }
    }

    /** A JSON array. */
    public static final class Arr {
        private final List<Object> elements = new ArrayList<>();

        private Arr() {
        }

        /** Appends {@code value} (see {@link Json} for the accepted types). */
        public Arr add(Object value) {
            elements.add(checked(value));
            return this;
        }

        public Arr add(boolean value) {
            return add(Boolean.valueOf(value));
        }

        public Arr add(long value) {
            return add(Long.valueOf(value));
        }

        public Arr add(double value) {
            return add(Double.valueOf(value));
        }

        /** The elements (read-only view). */
        public List<Object> elements() {
            return Collections.unmodifiableList(elements);
        }

        @Override
        public String toString() {
            return write(this);
        }

        public String toPrettyString() {
            return writePretty(this);
        }
    }

    // ---- conversion and writing ----------------------------------------------------------

    /** Converts containers to Obj/Arr up front and rejects what cannot be written. */
    private static Object checked(Object v) {
        if (v == null || v instanceof CharSequence || v instanceof Boolean || v instanceof Character
                || v instanceof Obj || v instanceof Arr) {
            return v instanceof CharSequence cs ? cs.toString() : v;
        }
        if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long
                || v instanceof BigInteger || v instanceof BigDecimal
                || v instanceof Double || v instanceof Float) {
            return v;
        }
        if (v instanceof Number n) {
            // AtomicLong, LongAdder, ...: take the value now.
            return n instanceof java.util.concurrent.atomic.AtomicInteger
                    || n instanceof java.util.concurrent.atomic.AtomicLong
                    || n instanceof java.util.concurrent.atomic.LongAdder
                    ? (Object) n.longValue() : (Object) n.doubleValue();
        }
        if (v instanceof Enum<?> e) {
            return e.name();
        }
        if (v instanceof Iterable<?> it) {
            return array(it);
        }
        if (v instanceof int[] a) {
            Arr r = new Arr();
            for (int x : a) {
                r.add(x);
            }
            return r;
        }
        if (v instanceof long[] a) {
            Arr r = new Arr();
            for (long x : a) {
                r.add(x);
            }
            return r;
        }
        if (v instanceof double[] a) {
            Arr r = new Arr();
            for (double x : a) {
                r.add(x);
            }
            return r;
        }
        if (v instanceof Map<?, ?> m) {
            Obj o = new Obj();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw new IllegalArgumentException("JSON object keys must be strings: " + e.getKey());
                }
                o.put(k, e.getValue());
            }
            return o;
        }
        throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    /** indent < 0: compact. */
    private static void writeValue(Object v, StringBuilder out, int indent, int depth) {
        switch (v) {
            case null -> out.append("null");
            case String s -> quote(s, out);
            case Character c -> quote(String.valueOf(c), out);
            case Boolean b -> out.append(b.booleanValue());
            case Double d -> writeDouble(d, out);
            case Float f -> writeDouble(f.doubleValue(), out);
            case BigDecimal bd -> out.append(bd.toString());
            case Number n -> out.append(n.toString()); // Byte, Short, Integer, Long, BigInteger
            case Obj o -> writeObject(o, out, indent, depth);
            case Arr a -> writeArray(a, out, indent, depth);
            default -> throw new IllegalStateException(v.getClass().getName());
        }
    }

    private static void writeDouble(double d, StringBuilder out) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            out.append("null");
        } else {
            out.append(d); // e.g. 3.0, 0.25, 1.0E-5: all valid JSON numbers
        }
    }

    private static void writeObject(Obj o, StringBuilder out, int indent, int depth) {
        if (o.members.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : o.members.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            newline(out, indent, depth + 1);
            quote(e.getKey(), out);
            out.append(indent < 0 ? ":" : ": ");
            writeValue(e.getValue(), out, indent, depth + 1);
        }
        newline(out, indent, depth);
        out.append('}');
    }

    private static void writeArray(Arr a, StringBuilder out, int indent, int depth) {
        if (a.elements.isEmpty()) {
            out.append("[]");
            return;
        }
        boolean flat = indent < 0 || a.elements.stream().noneMatch(x -> x instanceof Obj || x instanceof Arr);
        out.append('[');
        boolean first = true;
        for (Object x : a.elements) {
            if (!first) {
                out.append(indent >= 0 && flat ? ", " : ",");
            }
            first = false;
            if (!flat) {
                newline(out, indent, depth + 1);
            }
            writeValue(x, out, indent, depth + 1);
        }
        if (!flat) {
            newline(out, indent, depth);
        }
        out.append(']');
    }

    private static void newline(StringBuilder out, int indent, int depth) {
        if (indent >= 0) {
            out.append('\n');
            out.repeat("  ", depth);
        }
    }
}
