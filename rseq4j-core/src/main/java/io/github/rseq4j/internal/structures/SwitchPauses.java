package io.github.rseq4j.internal.structures;

/**
 * Points of the histogram's log-switching protocol where a test may stall the calling
 * thread, to reach the interleavings a preemption reaches only rarely (a switcher that read
 * the cursor long ago, a settler whose state word went stale between two reads). The
 * engine's public constructor uses {@link #NONE}, so production code calls an empty method
 * the JIT removes; the calls sit on the switch path (once per full log), never on a record's
 * critical section.
 */
@FunctionalInterface
interface SwitchPauses {

    /** Where in the protocol a pause happens. */
    enum Point {
        /** In {@code settle}, between the read of the state word and the read of the cursor. */
        SETTLE_READ,
        /** In {@code claim}, between the read of the state word and its CAS. */
        CLAIM_READ,
        /** In {@code trySwitch}, after the claim, before the commit. */
        BEFORE_COMMIT,
        /** In {@code trySwitch}, after a commit, before the switcher settles it. */
        AFTER_COMMIT,
        /** In a snapshot's drain, with the slice stopped, between reading the cursor and emptying the log. */
        DRAIN_STOPPED
    }

    /** No pauses: what every engine outside tests uses. */
    SwitchPauses NONE = point -> { };

    /**
     * Called by the engine at {@code point}; may spin, yield or sleep, never throw.
     *
     * @param point where the calling thread is in the protocol
     */
    void at(Point point);
}
