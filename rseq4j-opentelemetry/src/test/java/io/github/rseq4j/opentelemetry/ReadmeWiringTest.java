package io.github.rseq4j.opentelemetry;

import io.github.rseq4j.testsupport.ReadmeJava;
import org.junit.jupiter.api.Test;

import java.io.IOException;

/**
 * The README's Java blocks that use this module (marked {@code <!-- not compiled -->} for
 * the core's snippet test, which has no OpenTelemetry on its class path) compile here,
 * against this module's test class path. Such a block declares a class and imports
 * {@code io.github.rseq4j.opentelemetry}.
 */
class ReadmeWiringTest {

    @Test
    void theReadmesOpenTelemetryBlocksCompile() throws IOException {
        ReadmeJava.assertModuleBlocksCompile("io.github.rseq4j.opentelemetry.", "readme.opentelemetry");
    }
}
