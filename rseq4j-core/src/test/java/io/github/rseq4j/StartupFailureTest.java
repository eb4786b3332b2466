package io.github.rseq4j;

import io.github.rseq4j.testsupport.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failure to set up generated code leaves the library in portable mode, working, with the reason. */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StartupFailureTest {

    /** Child: uses rseq4j twice, whatever happened at start-up. */
    public static final class Child {
        public static void main(String[] args) {
            for (int use = 0; use < 2; use++) {
                try {
                    PerCpuCounter c = new PerCpuCounter();
                    c.add(3);
                    ChildJvm.emit("sum", c.sum());
                    RseqStatus s = Rseq.status();
                    ChildJvm.emit("mode", s.mode());
                    ChildJvm.emit("reason", s.modeReason());
                } catch (Throwable t) {
                    ChildJvm.emit("error", t);
                }
            }
        }
    }

    @Test
    void aFailedCodeMappingLeavesThePortableMode() {
        ChildJvm.Result r = ChildJvm.run(Child.class, List.of("-Drseq4j.internal.failCodeMapping=true"), Map.of(),
                Duration.ofSeconds(60)).requireSuccess();
        assertEquals(List.of(), r.values("error"), "no error, neither on first use nor later\n" + r.describe());
        assertEquals(List.of("3", "3"), r.values("sum"), r.describe());
        assertEquals("PORTABLE", r.values("mode").getFirst(), r.describe());
        String reason = r.values("reason").getFirst();
        if (!reason.contains("forced by")) {      // the fallback execution forces portable mode anyway
            assertTrue(reason.contains("no rseq system call") || reason.contains("denied")
                    || reason.contains("cannot generate code") || reason.contains("not Linux")
                    || (reason.contains("setting up rseq failed") && reason.contains("ENOMEM")), reason);
        }
    }
}
