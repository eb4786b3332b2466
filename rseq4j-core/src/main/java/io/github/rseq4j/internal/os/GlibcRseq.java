package io.github.rseq4j.internal.os;

import io.github.rseq4j.internal.abi.RseqAbi;

import java.util.Optional;

/**
 * What glibc (2.35+) says about its own rseq registration, read from the symbols it
 * exports: {@code __rseq_offset} (area = thread pointer + offset), {@code __rseq_size}
 * (0 when glibc did not register) and {@code __rseq_flags}.
 *
 * <p>The meaning of {@code __rseq_size} changed across glibc versions (32 while only 20
 * bytes were active in 2.35-2.39, 20 in 2.40, the feature size from 2.41); the usable
 * size follows librseq's rule: 20 or 32 means {@code min(32, AT_RSEQ_FEATURE_SIZE)},
 * anything else is taken as it is.
 *
 * @param present     whether the three symbols exist (glibc 2.35+)
 * @param offset      {@code __rseq_offset}
 * @param exportedSize {@code __rseq_size} as exported
 * @param flags       {@code __rseq_flags}
 * @param usableSize  bytes of the area the kernel keeps up to date; 0 when not registered
 */
public record GlibcRseq(boolean present, long offset, int exportedSize, int flags, int usableSize) {

    /**
     * Whether glibc registered its threads.
     *
     * @return {@code true} when the symbols exist and {@code __rseq_size} is positive
     */
    public boolean registered() {
        return present && exportedSize > 0;
    }

    /**
     * Reads the symbols; {@code featureSize} is the kernel's AT_RSEQ_FEATURE_SIZE.
     *
     * @param featureSize the kernel's AT_RSEQ_FEATURE_SIZE (0 without rseq), used to work
     *                    out the usable size
     * @return what glibc exports; all zero and not present when the symbols are missing
     */
    public static GlibcRseq read(int featureSize) {
        Optional<Long> offset = Libc.readLongSymbol("__rseq_offset");
        Optional<Integer> size = Libc.readIntSymbol("__rseq_size");
        Optional<Integer> flags = Libc.readIntSymbol("__rseq_flags");
        if (offset.isEmpty() || size.isEmpty()) {
            return new GlibcRseq(false, 0, 0, 0, 0);
        }
        int exported = size.get();
        return new GlibcRseq(true, offset.get(), exported, flags.orElse(0), usableSize(exported, featureSize));
    }

    /**
     * librseq's rule for the usable area size.
     *
     * @param exportedSize {@code __rseq_size} as glibc exports it
     * @param featureSize  the kernel's AT_RSEQ_FEATURE_SIZE
     * @return the bytes of glibc's area the kernel keeps up to date; 0 when glibc did not
     *         register
     */
    public static int usableSize(int exportedSize, int featureSize) {
        if (exportedSize == 0) {
            return 0;
        }
        if (exportedSize == RseqAbi.ORIGINAL_FEATURE_SIZE || exportedSize == RseqAbi.MIN_AREA_SIZE) {
            return Math.min(RseqAbi.MIN_AREA_SIZE, featureSize);
        }
        return exportedSize;
    }
}
