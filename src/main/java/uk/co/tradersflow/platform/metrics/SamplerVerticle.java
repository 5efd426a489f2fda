package uk.co.tradersflow.platform.metrics;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes the gauges that need a query (outbox depth, webhook backlog, readiness) on a timer,
 * not on scrape: a scrape stays a memory read however slow the database is, and a scraper that
 * polls often costs the database nothing extra. A round still running when the next is due is
 * not doubled up.
 */
public final class SamplerVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(SamplerVerticle.class);

    private final List<Sampler> samplers;
    private final Duration interval;
    private boolean running;
    private boolean failing;

    public SamplerVerticle(List<Sampler> samplers, Duration interval) {
        this.samplers = List.copyOf(samplers);
        this.interval = interval;
    }

    @Override
    public Future<?> start() {
        vertx.setPeriodic(1, interval.toMillis(), id -> round());
        return Future.succeededFuture();
    }

    private void round() {
        if (running) {
            return;
        }
        running = true;
        Future.join(samplers.stream().map(Sampler::sample).toList()).onComplete(ar -> {
            running = false;
            if (ar.failed() && !failing) {
                // Once per outage: readiness and the alerts on these gauges say the rest.
                log.warn(
                        "metrics sampling failed, keeping the last figures: {}",
                        ar.cause().getMessage());
            } else if (ar.succeeded() && failing) {
                log.info("metrics sampling works again");
            }
            failing = ar.failed();
        });
    }
}
