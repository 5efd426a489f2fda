package uk.co.tradersflow.platform.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The latency histogram's {@code status} label is the class, so it has five values, not hundreds. */
class HttpMetricsTest {

    @Test
    void statusIsItsClass() {
        assertThat(HttpMetrics.statusClass(200)).isEqualTo("2xx");
        assertThat(HttpMetrics.statusClass(404)).isEqualTo("4xx");
        assertThat(HttpMetrics.statusClass(503)).isEqualTo("5xx");
        assertThat(HttpMetrics.statusClass(999)).isEqualTo("other");
    }
}
