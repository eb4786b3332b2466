package io.github.rseq4j.cli;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void escapesQuotesAndBackslashes() {
        assertEquals("\"a\\\"b\\\\c\"", Json.quote("a\"b\\c"));
        assertEquals("\"\\\\\\\"\"", Json.quote("\\\""));
        assertEquals("\"/\"", Json.quote("/"));
    }

    @Test
    void escapesControlCharacters() {
        assertEquals("\"\\n\\r\\t\\b\\f\"", Json.quote("\n\r\t\b\f"));
        assertEquals("\"\\u0000\\u0001\\u001f\"", Json.quote("\u0000\u0001\u001f"));
        assertEquals("\"\\u007f\"", Json.quote("\u007f"));
    }

    @Test
    void nonAsciiIsEscapedSoOutputIsAscii() {
        assertEquals("\"caf\\u00e9 \\u2014 \\u2028\"", Json.quote("caf\u00e9 \u2014 \u2028"));
        // a surrogate pair and a lone surrogate: both written as escapes
        assertEquals("\"\\ud83d\\ude00\\ud800\"", Json.quote("\uD83D\uDE00\uD800"));
    }

    @Test
    void everyCharacterRoundTrips() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x3000; c++) {
            all.append(c);
        }
        all.append("\uD83D\uDE00\uFFFF");
        String text = Json.object().put("s", all.toString()).toString();
        for (char c : text.toCharArray()) {
            assertTrue(c >= 0x20 && c < 0x7f, () -> "non-printable or non-ASCII char " + (int) c);
        }
        Map<?, ?> back = (Map<?, ?>) MiniJson.parse(text);
        assertEquals(all.toString(), back.get("s"));
    }

    @Test
    void writesScalarsAndContainers() {
        Json.Obj o = Json.object()
                .put("s", "x")
                .put("t", true)
                .put("f", false)
                .put("n", (Object) null)
                .put("i", 42)
                .put("l", -9_000_000_000L)
                .put("d", 0.25)
                .put("nan", Double.NaN)
                .put("inf", Double.POSITIVE_INFINITY)
                .put("list", List.of(1, 2, 3))
                .put("ints", new int[] {4, 5})
                .put("empty", List.of())
                .put("obj", Json.object().put("k", "v"))
                .put("emptyObj", Json.object())
                .put("nested", List.of(Json.object().put("a", 1), List.of("x")));
        assertEquals("{\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null,\"i\":42,\"l\":-9000000000,"
                        + "\"d\":0.25,\"nan\":null,\"inf\":null,\"list\":[1,2,3],\"ints\":[4,5],"
                        + "\"empty\":[],\"obj\":{\"k\":\"v\"},\"emptyObj\":{},"
                        + "\"nested\":[{\"a\":1},[\"x\"]]}",
                o.toString());
    }

    @Test
    void prettyAndCompactParseToTheSameValue() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("z", 1);
        map.put("a", List.of("q\"uote", Map.of("k", List.of())));
        Json.Obj o = Json.object()
                .put("name", "line1\nline2\t\"x\"\\")
                .put("cpus", List.of(0, 1, 2))
                .put("map", map)
                .put("arr", Json.array().add(1).add("two").add(Json.object().put("three", 3.5)));
        Object compact = MiniJson.parse(o.toString());
        Object pretty = MiniJson.parse(o.toPrettyString());
        assertEquals(compact, pretty);
        assertTrue(o.toPrettyString().contains("\"cpus\": [0, 1, 2]"), o.toPrettyString());
        assertEquals(new BigDecimal("3.5"),
                ((Map<?, ?>) ((List<?>) ((Map<?, ?>) compact).get("arr")).get(2)).get("three"));
    }

    @Test
    void keepsInsertionOrderAndReplacesInPlace() {
        Json.Obj o = Json.object().put("b", 1).put("a", 2).put("b", 3);
        assertEquals("{\"b\":3,\"a\":2}", o.toString());
    }

    @Test
    void rejectsValuesItCannotWrite() {
        assertThrows(IllegalArgumentException.class, () -> Json.object().put("x", new Object()));
        assertThrows(IllegalArgumentException.class, () -> Json.object().put("x", Map.of(1, 2)));
        assertThrows(NullPointerException.class, () -> Json.object().put(null, 1));
    }

    @Test
    void miniJsonIsStrict() {
        for (String bad : List.of("", "{", "{\"a\":1,}", "[1,]", "\"a\nb\"", "01", "1.", "{\"a\":1}x",
                "{a:1}", "'a'", "[1 2]", "\"\\x\"", "{\"a\":1,\"a\":2}", "nul", "-")) {
            assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(bad), bad);
        }
        assertEquals(List.of(1L, -2L, new BigDecimal("3e2")), MiniJson.parse(" [1, -2, 3e2] "));
    }
}
