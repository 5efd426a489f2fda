package uk.co.tradersflow.platform.metrics;

import io.vertx.core.Future;

/** Gauges read from outside the process (the database, Redis), refreshed by {@link SamplerVerticle}. */
public interface Sampler {
    /** Reads the figures and stores them where the gauges read them; a failure leaves the last figures. */
    Future<?> sample();
}
