package io.github.rseq4j.cli;


import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CpuRangesTest {

    @Test
    void formatsLikeTheKernel() {
        assertEquals("none", CpuRanges.format(List.of()));
        assertEquals("0", CpuRanges.format(List.of(0)));
        assertEquals("0-3", CpuRanges.format(List.of(0, 1, 2, 3)));
        assertEquals("0-1,4,6-7", CpuRanges.format(List.of(7, 6, 4, 1, 0)));
        assertEquals("2,5", CpuRanges.format(List.of(2, 5, 5)));
    }
}
