package io.github.rseq4j;

import java.util.List;

/**
 * rseq4j's own {@link RseqStatus}: the values {@link Rseq#status()} read, with the lists
 * copied so that it stays immutable.
 */
record StatusSnapshot(Mode mode,
                      String modeReason,
                      String os,
                      String arch,
                      boolean codeGenerator,
                      Kernel kernel,
                      Glibc glibc,
                      RegistrationKind registrationStrategy,
                      FenceKind fence,
                      List<Integer> possibleCpus,
                      ThreadState thread,
                      Fallbacks fallbacks,
                      Refusals refusals,
                      List<String> settingProblems,
                      boolean portableRequested,
                      boolean affinityFenceRequested) implements RseqStatus {

    StatusSnapshot {
        possibleCpus = List.copyOf(possibleCpus);
        settingProblems = List.copyOf(settingProblems);
    }
}
