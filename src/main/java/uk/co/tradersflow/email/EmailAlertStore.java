package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import uk.co.tradersflow.platform.db.Db;

/**
 * The SQL of email delivery health, across accounts (as {@code tf_worker}): the figures over a
 * window, and the alert episodes. The single-open-episode index means that with many instances
 * evaluating, exactly one raise (or clear) succeeds per episode.
 */
final class EmailAlertStore {
    private static final String FIGURES =
            """
      SELECT (SELECT count(*) FROM email_outbox WHERE status = 'sent' AND updated_at > now() - $1 * interval '1 second') AS sent,
             (SELECT count(*) FROM email_outbox WHERE status = 'failed' AND updated_at > now() - $1 * interval '1 second') AS failed,
             (SELECT count(*) FROM email_events WHERE type = 'bounced' AND received_at > now() - $1 * interval '1 second') AS bounced,
             (SELECT count(*) FROM email_events WHERE type = 'complained' AND received_at > now() - $1 * interval '1 second') AS complained,
             EXISTS (SELECT 1 FROM email_alerts WHERE cleared_at IS NULL) AS alerting""";
    private static final String RAISE =
            """
      INSERT INTO email_alerts (failure_rate, window_seconds) VALUES ($1, $2)
      ON CONFLICT ((true)) WHERE cleared_at IS NULL DO NOTHING RETURNING id""";
    private static final String CLEAR =
            "UPDATE email_alerts SET cleared_at = now() WHERE cleared_at IS NULL RETURNING id";

    /** Counts over the window, and whether an alert episode is open. */
    record Figures(long sent, long failed, long bounced, long complained, boolean alerting) {}

    private final Db db;

    EmailAlertStore(Db db) {
        this.db = db;
    }

    Future<Figures> figures(Duration window) {
        return db.asWorker(tx -> tx.preparedQuery(FIGURES).execute(Tuple.of(window.toSeconds())))
                .map(rows -> figures(rows.iterator().next()));
    }

    /** Opens an episode; true only for the one caller whose insert opened it. */
    Future<Boolean> raise(double failureRate, Duration window) {
        return db.asWorker(tx -> tx.preparedQuery(RAISE).execute(Tuple.of(failureRate, window.toSeconds())))
                .map(rows -> rows.size() == 1);
    }

    /** Closes the open episode; true only for the one caller that closed it. */
    Future<Boolean> clear() {
        return db.asWorker(tx -> tx.preparedQuery(CLEAR).execute()).map(rows -> rows.size() == 1);
    }

    private static Figures figures(Row r) {
        return new Figures(
                r.getLong("sent"),
                r.getLong("failed"),
                r.getLong("bounced"),
                r.getLong("complained"),
                r.getBoolean("alerting"));
    }
}
