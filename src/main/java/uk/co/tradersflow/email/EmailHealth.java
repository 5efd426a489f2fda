package uk.co.tradersflow.email;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.db.Db;

/**
 * Email delivery health over a sliding window, and the failure-rate alert. An alert is one
 * episode row: raised once when the rate passes the threshold with enough volume to mean
 * something, cleared when it recovers. The single-open-episode index means that with many
 * instances evaluating, exactly one raises (and logs the ERROR marker) per episode.
 *
 * <p>An unreachable mail server fails no message (nothing is spent while it is away, see
 * {@link EmailDispatchVerticle}), so it never moves the failure rate. The dispatcher reports it
 * here instead: while this instance's dispatcher finds the SMTP server unreachable with mail
 * waiting, {@link Stats#alerting()} is true as well and the gauge
 * {@code tradersflow_email_smtp_unreachable} is 1 (alert {@code EmailSmtpUnreachable}); both clear
 * as soon as a send goes through again or no mail is left waiting. Every instance's dispatcher
 * probes the same server, so they agree within seconds.
 */
public final class EmailHealth {
    private static final Logger log = LoggerFactory.getLogger(EmailHealth.class);
    /** The stable marker operators alert on in the logs. */
    public static final String ALERT_MARKER = "EMAIL_FAILURE_RATE_ALERT";
    /** Below this many attempts in the window a rate is noise (one failure in two sends pages nobody). */
    static final int MIN_VOLUME = 20;

    public record Stats(
            long windowSeconds,
            long sent,
            long failed,
            long bounced,
            long complained,
            double failureRate,
            boolean alerting) {
        public JsonObject toJson() {
            return new JsonObject()
                    .put("windowSeconds", windowSeconds)
                    .put("sent", sent)
                    .put("failed", failed)
                    .put("bounced", bounced)
                    .put("complained", complained)
                    .put("failureRate", failureRate)
                    .put("alerting", alerting);
        }

        long volume() {
            return sent + failed;
        }
    }

    private final EmailAlertStore store;
    private final Duration window;
    private final double threshold;
    private final AtomicReference<Stats> last = new AtomicReference<>();
    /** Since when the dispatcher has found the SMTP server unreachable with mail waiting; null while it is not. */
    private final AtomicReference<Instant> smtpUnreachableSince = new AtomicReference<>();

    public EmailHealth(Db db, Duration window, double threshold, Optional<? extends MeterRegistry> registry) {
        this.store = new EmailAlertStore(db);
        this.window = window;
        this.threshold = threshold;
        registry.ifPresent(r -> {
            Gauge.builder(
                            "tradersflow.email.alerting",
                            last,
                            s -> s.get() != null && s.get().alerting() ? 1 : 0)
                    .description("1 while the email failure-rate alert is raised")
                    .register(r);
            Gauge.builder(
                            "tradersflow.email.failure.rate",
                            last,
                            s -> s.get() == null ? 0 : s.get().failureRate())
                    .description("email failures and bounces per attempt over the alert window")
                    .register(r);
            Gauge.builder("tradersflow.email.smtp.unreachable", smtpUnreachableSince, s -> s.get() == null ? 0 : 1)
                    .description("1 while this instance finds the SMTP server unreachable with email waiting")
                    .register(r);
        });
    }

    /** The figures, {@code alerting} also while the SMTP server is unreachable. */
    public Future<Stats> stats() {
        return figures().map(s -> smtpUnreachable() ? withAlerting(s, true) : s);
    }

    /** The figures and the failure-rate episode alone, as the database holds them. */
    private Future<Stats> figures() {
        return store.figures(window).map(this::toStats).onSuccess(last::set);
    }

    /** The dispatcher found the SMTP server unreachable (refused, dropped, timing out, busy) with mail waiting. */
    void smtpUnreachable(Instant since) {
        smtpUnreachableSince.compareAndSet(null, since);
    }

    /** A send went through, or no mail waits any more: nothing to report about the SMTP server. */
    void smtpReachable() {
        smtpUnreachableSince.set(null);
    }

    boolean smtpUnreachable() {
        return smtpUnreachableSince.get() != null;
    }

    /** Raises or clears the alert from the current figures; answers the figures after the change. */
    public Future<Stats> evaluate() {
        return figures()
                .compose(s -> {
                    boolean unhealthy = s.failureRate() > threshold && s.volume() >= MIN_VOLUME;
                    if (unhealthy && !s.alerting()) {
                        return store.raise(s.failureRate(), window).map(raised -> {
                            if (raised) {
                                log.error(
                                        "{} raised: email failure rate {} over the last {} s exceeds {} ({} sent, {} failed, {} bounced)",
                                        ALERT_MARKER,
                                        String.format("%.3f", s.failureRate()),
                                        window.toSeconds(),
                                        threshold,
                                        s.sent(),
                                        s.failed(),
                                        s.bounced());
                            }
                            return withAlerting(s, true);
                        });
                    }
                    if (!unhealthy && s.alerting() && s.failureRate() <= threshold) {
                        return store.clear().map(cleared -> {
                            if (cleared) {
                                log.info(
                                        "{} cleared: email failure rate back to {}",
                                        ALERT_MARKER,
                                        String.format("%.3f", s.failureRate()));
                            }
                            return withAlerting(s, false);
                        });
                    }
                    return Future.succeededFuture(s);
                })
                .onSuccess(last::set);
    }

    private Stats toStats(EmailAlertStore.Figures f) {
        double rate = f.sent() + f.failed() == 0 ? 0.0 : (double) (f.failed() + f.bounced()) / (f.sent() + f.failed());
        return new Stats(
                window.toSeconds(),
                f.sent(),
                f.failed(),
                f.bounced(),
                f.complained(),
                Math.min(1.0, rate),
                f.alerting());
    }

    private static Stats withAlerting(Stats s, boolean alerting) {
        return new Stats(
                s.windowSeconds(), s.sent(), s.failed(), s.bounced(), s.complained(), s.failureRate(), alerting);
    }
}
