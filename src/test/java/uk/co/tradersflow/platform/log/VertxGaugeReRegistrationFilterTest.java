package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

class VertxGaugeReRegistrationFilterTest {
    private final LoggerContext context = new LoggerContext();
    private final VertxGaugeReRegistrationFilter filter = new VertxGaugeReRegistrationFilter();

    private FilterReply decide(String logger, Level level, String message) {
        return filter.decide(null, context.getLogger(logger), level, message, null, null);
    }

    @Test
    void vertxsOwnGaugeReRegistrationIsDroppedAndAnyOtherDoubleRegistrationIsKept() {
        String registry = VertxGaugeReRegistrationFilter.MICROMETER_REGISTRY;
        assertThat(
                        decide(
                                registry,
                                Level.WARN,
                                "This Gauge has been already registered (MeterId{name='vertx.net.client.active.connections', "
                                        + "tags=[]}), the registration will be ignored. Note that subsequent logs will be logged at debug level."))
                .isEqualTo(FilterReply.DENY);
        assertThat(decide(
                        registry,
                        Level.WARN,
                        "This Gauge has been already registered (MeterId{name='tf.email.outbox.pending', "
                                + "tags=[]}), the registration will be ignored."))
                .isEqualTo(FilterReply.NEUTRAL);
        assertThat(decide(registry, Level.WARN, "some other registry warning about name='vertx.x'"))
                .isEqualTo(FilterReply.NEUTRAL);
        assertThat(decide(
                        "uk.co.tradersflow.Main",
                        Level.WARN,
                        "This Gauge has been already registered (MeterId{name='vertx.a'})"))
                .isEqualTo(FilterReply.NEUTRAL);
    }
}
