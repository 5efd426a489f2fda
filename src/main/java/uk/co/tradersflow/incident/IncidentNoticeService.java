package uk.co.tradersflow.incident;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.audit.AuditEntry;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.EmailTemplate;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.FieldError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.db.Tx;
import uk.co.tradersflow.platform.security.Actor;

/**
 * Tells the users of affected accounts about a security incident (the GDPR notice to data
 * subjects): one templated {@code incident_notice} email per verified user, queued through the
 * email outbox in one transaction with one audit entry per account. Each email's dedupe key
 * names the incident and the user, so running the same notice again (after a crash, or by a
 * second operator) queues nothing twice. Sends are paced by spreading the emails'
 * {@code next_attempt_at}, so a platform-wide notice does not trip the mail provider's limits or
 * the email failure-rate alert. Used by the {@code incident-notice} command; the owners' admin
 * area is meant to call the same method.
 *
 * <p>It works across accounts, so it needs a connection that may: the operator's (the
 * migrations' admin login) from the command, or the worker role's.
 */
public final class IncidentNoticeService {
    /** What to send: to the users of these accounts (empty: every account), which words, how fast. */
    public record Notice(
            String incidentId, Optional<List<UUID>> accountIds, String subject, String body, int perMinute) {}

    /** How many emails were queued now (not counting those an earlier run queued) and for how many accounts. */
    public record Queued(int emails, int accounts) {}

    /**
     * Every verified user of the named accounts, whatever the account's status (a closed account's
     * data is kept until it is purged, so its people are affected too). Unverified addresses are
     * skipped: nobody proved they belong to the user, and the notice describes the incident.
     */
    private static final String QUEUE =
            """
      WITH recipients AS (
        SELECT u.id AS user_id, u.account_id, u.email,
               row_number() OVER (ORDER BY u.account_id, u.id) - 1 AS position
          FROM users u
         WHERE u.email_verified_at IS NOT NULL
           AND ($1::uuid[] IS NULL OR u.account_id = ANY ($1::uuid[])))
      INSERT INTO email_outbox (account_id, template, recipient, model, dedupe_key, next_attempt_at)
      SELECT account_id, $2, email, $3::jsonb, 'incident:' || $4 || ':' || user_id,
             now() + position * make_interval(secs => $5::double precision)
        FROM recipients
      ON CONFLICT ON CONSTRAINT email_outbox_dedupe_key DO NOTHING
      RETURNING account_id""";

    static final int MAX_BODY = 20_000;

    private final Pool pool;
    private final AuditLog audit;
    private final EmailOutbox outbox;

    public IncidentNoticeService(Pool pool, AuditLog audit, EmailOutbox outbox) {
        this.pool = pool;
        this.audit = audit;
        this.outbox = outbox;
    }

    public Future<Queued> queue(Notice notice, Actor actor) {
        List<FieldError> errors = validate(notice);
        if (!errors.isEmpty()) {
            return Future.failedFuture(AppError.validation(errors));
        }
        JsonObject model = new JsonObject()
                .put("subject", notice.subject().strip())
                .put("incident", notice.incidentId())
                .put("paragraphs", paragraphs(notice.body()));
        double spacingSeconds = 60.0 / notice.perMinute();
        Tuple args = Tuple.of(
                notice.accountIds().map(ids -> ids.toArray(UUID[]::new)).orElse(null),
                EmailTemplate.INCIDENT_NOTICE.id(),
                model,
                notice.incidentId(),
                spacingSeconds);
        return Db.transaction(pool, tx -> tx.preparedQuery(QUEUE).execute(args).compose(rows -> {
            outbox.wakeAfterCommit(tx);
            Map<UUID, Integer> perAccount = new LinkedHashMap<>();
            for (Row row : rows) {
                perAccount.merge(row.getUUID("account_id"), 1, Integer::sum);
            }
            return auditEach(tx, notice, perAccount, actor)
                    .map(v -> new Queued(
                            perAccount.values().stream()
                                    .mapToInt(Integer::intValue)
                                    .sum(),
                            perAccount.size()));
        }));
    }

    private Future<Void> auditEach(Tx tx, Notice notice, Map<UUID, Integer> perAccount, Actor actor) {
        Future<Void> chain = Future.succeededFuture();
        for (Map.Entry<UUID, Integer> e : perAccount.entrySet()) {
            AuditEntry entry = AuditEntry.by(actor, Optional.of(e.getKey()), "incident_notice_queued")
                    .target("incident", notice.incidentId())
                    .detail("subject", notice.subject().strip())
                    .detail("recipients", e.getValue());
            chain = chain.compose(v -> audit.append(tx, entry));
        }
        return chain;
    }

    /** Blank lines separate paragraphs; a paragraph's own line breaks become spaces, as in any email client. */
    static JsonArray paragraphs(String body) {
        JsonArray out = new JsonArray();
        Arrays.stream(body.replace("\r\n", "\n").split("\n\\s*\n"))
                .map(p -> p.strip().replaceAll("\\s*\n\\s*", " "))
                .filter(p -> !p.isEmpty())
                .forEach(out::add);
        return out;
    }

    private static List<FieldError> validate(Notice n) {
        List<FieldError> errors = new ArrayList<>();
        if (n.incidentId() == null || !n.incidentId().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            errors.add(new FieldError("incidentId", "letters, digits, '.', '_' or '-', at most 64"));
        }
        if (n.subject() == null
                || n.subject().isBlank()
                || n.subject().length() > 200
                || n.subject().matches("(?s).*[\\r\\n].*")) {
            errors.add(new FieldError("subject", "one line of 1 to 200 characters"));
        }
        if (n.body() == null || paragraphs(n.body()).isEmpty() || n.body().length() > MAX_BODY) {
            errors.add(new FieldError("body", "1 to " + MAX_BODY + " characters"));
        }
        if (n.perMinute() < 1 || n.perMinute() > 100_000) {
            errors.add(new FieldError("perMinute", "between 1 and 100000"));
        }
        if (n.accountIds().isPresent() && n.accountIds().get().isEmpty()) {
            errors.add(new FieldError("accountIds", "name at least one account, or all"));
        }
        return errors;
    }

    /** How long the last email of a notice to {@code recipients} people waits at this pace. */
    public static Duration spread(int recipients, int perMinute) {
        return Duration.ofMillis(Math.max(0, recipients - 1) * 60_000L / perMinute);
    }
}
