package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Measures how late a periodic timer fires on the event loop this instance runs on: the time
 * the loop spent on other work it could not interrupt. Deployed once per HTTP event loop, it
 * publishes {@code tradersflow_eventloop_delay_seconds{loop=…}} (count, sum, max), the figure
 * that shows a blocked or saturated loop long before requests time out. Vert.x's own metrics
 * cover pools, connections and requests, not the loops themselves.
 */
public final class EventLoopDelayVerticle extends VerticleBase {
    static final Duration INTERVAL = Duration.ofMillis(250);

    private final MeterRegistry registry;
    private long last;

    public EventLoopDelayVerticle(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Future<?> start() {
        Timer delay = Timer.builder("tradersflow.eventloop.delay")
                .description("How late a periodic timer fired on this event loop")
                .tag("loop", Thread.currentThread().getName())
                .register(registry);
        long interval = INTERVAL.toNanos();
        last = System.nanoTime();
        vertx.setPeriodic(INTERVAL.toMillis(), id -> {
            long now = System.nanoTime();
            delay.record(Math.max(0, now - last - interval), TimeUnit.NANOSECONDS);
            last = now;
        });
        return Future.succeededFuture();
    }
}
