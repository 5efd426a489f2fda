package uk.co.tradersflow.platform.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops Micrometer's "This Gauge has been already registered" WARN for Vert.x's own meters, which
 * every start logged (for {@code vertx.net.client.active.connections}: the Postgres and Redis
 * clients' second connection). Vert.x's Micrometer binding registers a connection gauge again for
 * each new connection on purpose, relying on Micrometer's get-or-create and keeping one counter
 * per meter id itself, so the value is right and the warning is noise (upstream:
 * vert-x3/vertx-micrometer-metrics#259). The same warning about any other meter, one of ours, is
 * a real double registration and still gets through.
 */
public final class VertxGaugeReRegistrationFilter extends TurboFilter {
    static final String MICROMETER_REGISTRY = "io.micrometer.core.instrument.MeterRegistry";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (format != null
                && level == Level.WARN
                && MICROMETER_REGISTRY.equals(logger.getName())
                && format.startsWith("This Gauge has been already registered")
                && format.contains("name='vertx.")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
