package uk.co.tradersflow.billing;

import com.stripe.exception.InvalidRequestException;
import com.stripe.param.PaymentLinkUpdateParams;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.jobs.PeriodicJobVerticle;

/**
 * Deactivates, on the tradesperson's connected account, every payment link that no longer
 * matches its invoice: an older version after an edit, any link of a paid, voided or deleted
 * invoice, and every link of a purged account. The database queues them
 * ({@code payment_link_retirements}, filled by triggers in the transaction that made them stale);
 * this job only works the queue. A claim is a lease ({@code next_attempt_at} pushed past what a
 * whole batch of Stripe calls can take at their timeouts, {@code attempts} as the claim token), so every instance can run it and
 * a crash mid-call only delays the link to the next lease. Stripe down: the row stays, with backoff.
 */
public final class PaymentLinkRetirementVerticle extends PeriodicJobVerticle {
    private static final Logger log = LoggerFactory.getLogger(PaymentLinkRetirementVerticle.class);
    private static final int BATCH = 10;
    /** Alertable: a link still payable after this many refusals (about 8½ hours of backoff) needs a person. */
    public static final String STUCK_MARKER = "PAYMENT_LINK_STILL_ACTIVE";

    static final int STUCK_AFTER_ATTEMPTS = 10;

    // The due rows computed once (a materialised CTE): a subquery in FROM may be run again for
    // each row it is joined against, and each run skips the rows this UPDATE already changed, so
    // together they take more than the batch (see StripeEventStore's claim).
    private static final String CLAIM =
            """
      WITH due AS MATERIALIZED (SELECT payment_link_id FROM payment_link_retirements WHERE next_attempt_at <= now()
                                 ORDER BY next_attempt_at LIMIT %d FOR UPDATE SKIP LOCKED)
      UPDATE payment_link_retirements r SET attempts = r.attempts + 1, next_attempt_at = now() + interval '5 minutes'
        FROM due
       WHERE r.payment_link_id = due.payment_link_id
      RETURNING r.payment_link_id, r.connect_account_id, r.attempts"""
                    .formatted(BATCH);

    private static final String DONE =
            "DELETE FROM payment_link_retirements WHERE payment_link_id = $1 AND attempts = $2";

    private static final String RETRY_LATER =
            """
      UPDATE payment_link_retirements
         SET next_attempt_at = now() + least(interval '6 hours', interval '30 seconds' * power(2, least(attempts, 10))),
             last_error = left($3, 1000)
       WHERE payment_link_id = $1 AND attempts = $2""";

    private record Claim(String paymentLinkId, String connectAccountId, int attempts) {}

    private final Db db;
    private final StripeGateway stripe;

    public PaymentLinkRetirementVerticle(Db db, StripeGateway stripe, Duration interval) {
        super(interval);
        this.db = db;
        this.stripe = stripe;
    }

    /** Without Stripe the queue simply waits; nothing is lost. */
    @Override
    protected boolean enabled() {
        return stripe.configured();
    }

    /** One round over at most one batch of due links; answers how many Stripe confirmed deactivated. */
    @Override
    protected Future<Integer> round() {
        return db.asWorker(tx -> tx.query(CLAIM).execute().map(rows -> {
                    List<Claim> claims = new ArrayList<>();
                    for (Row r : rows) {
                        claims.add(new Claim(
                                r.getString("payment_link_id"),
                                r.getString("connect_account_id"),
                                r.getInteger("attempts")));
                    }
                    return claims;
                }))
                .compose(claims -> {
                    Future<Integer> chain = Future.succeededFuture(0);
                    for (Claim claim : claims) {
                        chain = chain.compose(n -> retire(claim).map(ok -> ok ? n + 1 : n));
                    }
                    return chain;
                })
                .onFailure(e -> log.warn("payment link retirement round failed, will retry: {}", e.toString()));
    }

    private Future<Boolean> retire(Claim claim) {
        return stripe.<Void>call("payment_links.update", c -> {
                    try {
                        c.v1().paymentLinks()
                                .update(
                                        claim.paymentLinkId(),
                                        PaymentLinkUpdateParams.builder()
                                                .setActive(false)
                                                .build(),
                                        StripeGateway.onConnected(claim.connectAccountId(), null));
                    } catch (InvalidRequestException e) {
                        // A link (or connected account) Stripe no longer has cannot take payments either.
                        if (!"resource_missing".equals(e.getCode())) {
                            throw e;
                        }
                    }
                    return null;
                })
                .compose(gone -> db.asWorker(
                        tx -> tx.preparedQuery(DONE).execute(Tuple.of(claim.paymentLinkId(), claim.attempts()))))
                .map(done -> true)
                .recover(e -> {
                    String why = e instanceof AppError app ? app.getMessage() : e.toString();
                    if (claim.attempts() == STUCK_AFTER_ATTEMPTS) {
                        log.error(
                                "{}: payment link {} on {} could not be deactivated after {} attempts and can still take payments; "
                                        + "deactivate it in Stripe's dashboard. Last error: {}",
                                STUCK_MARKER,
                                claim.paymentLinkId(),
                                claim.connectAccountId(),
                                claim.attempts(),
                                why);
                    } else {
                        log.warn(
                                "could not deactivate payment link {} yet (attempt {}): {}",
                                claim.paymentLinkId(),
                                claim.attempts(),
                                why);
                    }
                    return db.asWorker(tx -> tx.preparedQuery(RETRY_LATER)
                                    .execute(Tuple.of(claim.paymentLinkId(), claim.attempts(), why)))
                            .transform(ar -> Future.succeededFuture(false));
                });
    }
}
