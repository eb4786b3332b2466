package io.github.rseq4j.jackson;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The document the tests (and the benchmarks' shape) write and read back. */
public record Doc(long id, String name, List<Long> values, Map<String, String> tags, List<Doc> children) {

    /** A document of about {@code bytes} bytes of JSON, different for each {@code seed}. */
    static Doc ofSize(long seed, int bytes) {
        List<Long> values = new ArrayList<>();
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 0; i < 8; i++) {
            values.add(seed * 31 + i);
            tags.put("k" + i, "v" + (seed + i));
        }
        List<Doc> children = new ArrayList<>();
        Doc root = new Doc(seed, "doc-" + seed, values, tags, children);
        int approx = 250;
        for (int c = 0; approx < bytes; c++) {
            children.add(new Doc(seed + c, "child \"" + c + "\" ü", List.of((long) c, seed), Map.of("c", "" + c), List.of()));
            approx += 90;
        }
        return root;
    }
}
