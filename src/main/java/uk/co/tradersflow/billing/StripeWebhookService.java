package uk.co.tradersflow.billing;

import com.stripe.Stripe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.metrics.SecurityEvents;

/**
 * Receives a Stripe webhook delivery: checks its signature over the raw body against every
 * configured secret before anything else (300 s tolerance), then stores the event once by its id.
 * It runs on whichever event loop received the request, so HMAC checking spreads over all the
 * HTTPS loops and no bus hop sits between the request and its reply; each loop stores its
 * deliveries in batches ({@link StripeEventIntake}), and answers each after the COMMIT that stored
 * it. Handling the event is not
 * done here: the store wakes {@link StripeWebhookVerticle} after it commits, and that verticle
 * also polls, so the 2xx never waits for Stripe or for the event's effects.
 *
 * <p>API versions: handling takes only identifiers and metadata from the event (stable across
 * versions) and re-reads state through stripe-java at its pinned version ({@link Stripe#API_VERSION}),
 * so an event of another version is stored and applied the same way; it is counted and logged, never dropped.
 *
 * <p>Thread-safe: one instance serves every HTTPS event loop.
 */
public final class StripeWebhookService {
    private static final Logger log = LoggerFactory.getLogger(StripeWebhookService.class);
    private static final Pattern EVENT_ID = Pattern.compile("^evt_[A-Za-z0-9_]{1,200}$");
    static final Duration TOLERANCE = Duration.ofSeconds(300);
    /**
     * The longest a delivery waits for its row to be stored before it is answered 503 (Stripe then
     * retries; a store that commits late makes that retry a duplicate, so nothing is lost).
     */
    private static final Duration STORE_TIMEOUT = Duration.ofSeconds(5);

    private final boolean configured;
    private final StripeSignature signature;
    private final StripeEventIntake intake;
    private final MeterRegistry registry;
    private final Set<String> warnedVersions = ConcurrentHashMap.newKeySet();

    public StripeWebhookService(List<String> secrets, Clock clock, StripeEventStore events, MeterRegistry registry) {
        this.configured = !secrets.isEmpty();
        this.signature = new StripeSignature(secrets, clock, TOLERANCE);
        this.intake = new StripeEventIntake(events);
        this.registry = registry;
    }

    /**
     * Verifies and stores one delivery. Fails with 503 {@code webhook_not_configured} when no secret
     * is set, 400 {@code invalid_signature} when the signature does not verify or the signed body is
     * not an event we can store, and 503 when the store is unreachable (Stripe retries; nothing is lost).
     */
    public Future<StripeWebhookReceipt> receive(StripeDelivery delivery) {
        if (!configured) {
            return Future.failedFuture(
                    AppError.of(ErrorCode.WEBHOOK_NOT_CONFIGURED, "Stripe webhooks are not configured on this server"));
        }
        StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.RECEIVED);
        var rejection = signature.check(delivery.signature(), delivery.body().getBytes());
        if (rejection.isPresent()) {
            return rejected(rejection.get().name().toLowerCase(Locale.ROOT));
        }
        JsonObject event;
        String id;
        try {
            event = new JsonObject(delivery.body());
            id = event.getString("id");
        } catch (DecodeException | ClassCastException e) {
            event = null;
            id = null;
        }
        if (event == null || id == null || !EVENT_ID.matcher(id).matches() || !wellFormed(event)) {
            // Signed by Stripe yet not an event we can store: refuse loudly rather than store junk.
            return rejected("unparseable");
        }
        noteVersion(event.getString("api_version"));
        String eventId = id;
        return intake.store(event, eventId)
                .timeout(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .transform(ar -> {
                    if (ar.failed()) {
                        log.error("stripe event {} could not be stored", eventId, ar.cause());
                        return Future.failedFuture(AppError.of(
                                ErrorCode.SERVICE_UNAVAILABLE, "The event could not be stored; Stripe will retry"));
                    }
                    boolean fresh = ar.result();
                    Counter.builder("tf_stripe_webhook_stored")
                            .tag("duplicate", Boolean.toString(!fresh))
                            .register(registry)
                            .increment();
                    StripeWebhookMetrics.count(
                            fresh ? StripeWebhookMetrics.Outcome.STORED : StripeWebhookMetrics.Outcome.DUPLICATE);
                    return Future.succeededFuture(new StripeWebhookReceipt(eventId, !fresh));
                });
    }

    private Future<StripeWebhookReceipt> rejected(String reason) {
        Counter.builder("tf_stripe_webhook_rejected")
                .description("Stripe webhook deliveries refused before parsing")
                .tag("reason", reason)
                .register(registry)
                .increment();
        SecurityEvents.record(SecurityEvents.Event.WEBHOOK_REJECTED);
        StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.REJECTED);
        return Future.failedFuture(
                AppError.of(ErrorCode.INVALID_SIGNATURE, "The Stripe-Signature header does not verify"));
    }

    /** The fields the event log stores have the types Stripe gives them. */
    private static boolean wellFormed(JsonObject event) {
        return event.getValue("type") instanceof String
                && event.getValue("created") instanceof Number
                && (event.getValue("account") == null || event.getValue("account") instanceof String)
                && (event.getValue("api_version") == null || event.getValue("api_version") instanceof String)
                && (event.getValue("livemode") == null || event.getValue("livemode") instanceof Boolean)
                && event.getValue("data") instanceof JsonObject;
    }

    private void noteVersion(String version) {
        if (version != null && !Stripe.API_VERSION.equals(version)) {
            Counter.builder("tf_stripe_webhook_api_version_mismatch")
                    .tag("version", version)
                    .register(registry)
                    .increment();
            if (warnedVersions.add(version)) {
                log.warn(
                        "stripe event api_version {} differs from the pinned {}; applying by id and re-reading at the pinned version "
                                + "(set the endpoint's API version to match)",
                        version,
                        Stripe.API_VERSION);
            }
        }
    }
}
