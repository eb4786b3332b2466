package io.github.rseq4j.internal.abi;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The owner word's values and the tagged base: checked in Java before generated code sees them. */
class SliceLayoutTest {

    @Test
    void aTaggedBaseCarriesTheTokenInItsTop16Bits() {
        long address = 0x7f12_3450_0000L;
        long tagged = SliceLayout.taggedBase(address, 0xBEEF);
        assertEquals(0xBEEF, tagged >>> 48, "the token, as the generated code splits it off");
        assertEquals(address, tagged & (SliceLayout.ADDRESS_LIMIT - 1), "the address, as the generated code keeps it");
        assertEquals(address | (1L << 48), SliceLayout.taggedBase(address, 1));
        assertEquals(address | (0xFFFFL << 48), SliceLayout.taggedBase(address, SliceLayout.MAX_TOKEN));
    }

    @Test
    void whatCannotBeTaggedIsRefusedInJava() {
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(0x1000, 0), "token 0: a dropped page");
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(0x1000, SliceLayout.MAX_TOKEN + 1));
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(0x1000, -1));
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(SliceLayout.ADDRESS_LIMIT, 1),
                "an address that reaches into the token's bits");
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(-4096L, 1));
        assertThrows(IllegalArgumentException.class, () -> SliceLayout.taggedBase(0, 1));
    }

    @Test
    void noStoppedWordEqualsAnyToken() {
        for (long token = 1; token <= SliceLayout.MAX_TOKEN; token++) {
            long stopped = SliceLayout.stoppedWord(token);
            assertNotEquals(0, stopped);
            assertEquals(token, stopped & SliceLayout.MAX_TOKEN, "the stopped word keeps the token");
            assertNotEquals(0, stopped >>> SliceLayout.TOKEN_BITS, "and is no token");
        }
    }
}
