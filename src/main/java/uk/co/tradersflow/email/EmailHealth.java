package uk.co.tradersflow.email;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
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
 */
public final class EmailHealth {
  private static final Logger log = LoggerFactory.getLogger(EmailHealth.class);
  /** The stable marker operators alert on in the logs. */
  public static final String ALERT_MARKER = "EMAIL_FAILURE_RATE_ALERT";
  /** Below this many attempts in the window a rate is noise (one failure in two sends pages nobody). */
  static final int MIN_VOLUME = 20;

  private static final String STATS = """
      SELECT (SELECT count(*) FROM email_outbox WHERE status = 'sent' AND updated_at > now() - $1 * interval '1 second') AS sent,
             (SELECT count(*) FROM email_outbox WHERE status = 'failed' AND updated_at > now() - $1 * interval '1 second') AS failed,
             (SELECT count(*) FROM email_events WHERE type = 'bounced' AND received_at > now() - $1 * interval '1 second') AS bounced,
             (SELECT count(*) FROM email_events WHERE type = 'complained' AND received_at > now() - $1 * interval '1 second') AS complained,
             EXISTS (SELECT 1 FROM email_alerts WHERE cleared_at IS NULL) AS alerting""";
  private static final String RAISE = """
      INSERT INTO email_alerts (failure_rate, window_seconds) VALUES ($1, $2)
      ON CONFLICT ((true)) WHERE cleared_at IS NULL DO NOTHING RETURNING id""";
  private static final String CLEAR = "UPDATE email_alerts SET cleared_at = now() WHERE cleared_at IS NULL RETURNING id";

  public record Stats(long windowSeconds, long sent, long failed, long bounced, long complained, double failureRate,
                      boolean alerting) {
    public JsonObject toJson() {
      return new JsonObject().put("windowSeconds", windowSeconds).put("sent", sent).put("failed", failed)
          .put("bounced", bounced).put("complained", complained).put("failureRate", failureRate).put("alerting", alerting);
    }

    long volume() {
      return sent + failed;
    }
  }

  private final Db db;
  private final Duration window;
  private final double threshold;
  private final AtomicReference<Stats> last = new AtomicReference<>();

  public EmailHealth(Db db, Duration window, double threshold, Optional<? extends MeterRegistry> registry) {
    this.db = db;
    this.window = window;
    this.threshold = threshold;
    registry.ifPresent(r -> {
      Gauge.builder("tradersflow.email.alerting", last, s -> s.get() != null && s.get().alerting() ? 1 : 0)
          .description("1 while the email failure-rate alert is raised").register(r);
      Gauge.builder("tradersflow.email.failure.rate", last, s -> s.get() == null ? 0 : s.get().failureRate())
          .description("email failures and bounces per attempt over the alert window").register(r);
    });
  }

  public Future<Stats> stats() {
    return db.asWorker(tx -> tx.preparedQuery(STATS).execute(Tuple.of(window.toSeconds())))
        .map(rows -> toStats(rows.iterator().next()))
        .onSuccess(last::set);
  }

  /** Raises or clears the alert from the current figures; answers the figures after the change. */
  public Future<Stats> evaluate() {
    return stats().compose(s -> {
      boolean unhealthy = s.failureRate() > threshold && s.volume() >= MIN_VOLUME;
      if (unhealthy && !s.alerting()) {
        return db.asWorker(tx -> tx.preparedQuery(RAISE).execute(Tuple.of(s.failureRate(), window.toSeconds())))
            .map(rows -> {
              if (rows.size() == 1) {
                log.error("{} raised: email failure rate {} over the last {} s exceeds {} ({} sent, {} failed, {} bounced)",
                    ALERT_MARKER, String.format("%.3f", s.failureRate()), window.toSeconds(), threshold, s.sent(), s.failed(), s.bounced());
              }
              return withAlerting(s, true);
            });
      }
      if (!unhealthy && s.alerting() && s.failureRate() <= threshold) {
        return db.asWorker(tx -> tx.preparedQuery(CLEAR).execute()).map(rows -> {
          if (rows.size() == 1) {
            log.info("{} cleared: email failure rate back to {}", ALERT_MARKER, String.format("%.3f", s.failureRate()));
          }
          return withAlerting(s, false);
        });
      }
      return Future.succeededFuture(s);
    }).onSuccess(last::set);
  }

  private Stats toStats(Row r) {
    long sent = r.getLong("sent");
    long failed = r.getLong("failed");
    long bounced = r.getLong("bounced");
    double rate = sent + failed == 0 ? 0.0 : (double) (failed + bounced) / (sent + failed);
    return new Stats(window.toSeconds(), sent, failed, bounced, r.getLong("complained"), Math.min(1.0, rate), r.getBoolean("alerting"));
  }

  private static Stats withAlerting(Stats s, boolean alerting) {
    return new Stats(s.windowSeconds(), s.sent(), s.failed(), s.bounced(), s.complained(), s.failureRate(), alerting);
  }
}
