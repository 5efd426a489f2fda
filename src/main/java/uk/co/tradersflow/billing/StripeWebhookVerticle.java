package uk.co.tradersflow.billing;

import com.stripe.Stripe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.bus.Addresses;

/**
 * Verifies and stores Stripe webhook deliveries handed over by the HTTP route, then applies them.
 * The reply (→ 2xx) is sent as soon as the event row is committed; handling runs after, and a
 * poller retries failed events with exponential backoff (2^attempts s, capped at 1 h, at most
 * {@link StripeEventStore#MAX_ATTEMPTS} tries before it waits for an owner's replay).
 *
 * <p>API versions: handling takes only identifiers and metadata from the event (stable across
 * versions) and re-reads state through stripe-java at its pinned version ({@link Stripe#API_VERSION}),
 * so an event of another version is applied the same way; it is counted and logged, never dropped.
 */
public final class StripeWebhookVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StripeWebhookVerticle.class);
  static final Duration TOLERANCE = Duration.ofSeconds(300);
  private static final long POLL_MS = 1000;
  /**
   * Handlers per instance at once. A subscription handler holds a pooled connection while it
   * re-reads from Stripe (up to the read timeout), so this cap keeps the pool free for storing
   * deliveries (the 2xx path) even when Stripe is slow; events above it stay pending for the poller.
   */
  static final int MAX_HANDLING = 3;

  private final StripeSignature signature;
  private final StripeEventStore events;
  private final StripeEventHandler handler;
  private final MeterRegistry registry;
  private final Set<String> warnedVersions = ConcurrentHashMap.newKeySet();
  private MessageConsumer<StripeDelivery> consumer;
  private MessageConsumer<Object> due;
  private long timer;
  private boolean polling;
  private int handling;

  public StripeWebhookVerticle(java.util.List<String> secrets, Clock clock, StripeEventStore events,
                               StripeEventHandler handler, MeterRegistry registry) {
    this.signature = new StripeSignature(secrets, clock, TOLERANCE);
    this.events = events;
    this.handler = handler;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(Addresses.STRIPE_WEBHOOK, this::onDelivery);
    due = vertx.eventBus().consumer(Addresses.STRIPE_EVENT_DUE, m -> poll());
    timer = vertx.setPeriodic(POLL_MS, id -> poll());
    return Future.all(consumer.completion(), due.completion());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.all(consumer.unregister(), due.unregister());
  }

  private void onDelivery(Message<StripeDelivery> msg) {
    StripeDelivery d = msg.body();
    StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.RECEIVED);
    byte[] raw = d.body().getBytes();
    var rejection = signature.check(d.signature(), raw);
    if (rejection.isPresent()) {
      String reason = rejection.get().name().toLowerCase(java.util.Locale.ROOT);
      Counter.builder("tf_stripe_webhook_rejected").description("Stripe webhook deliveries refused before parsing")
          .tag("reason", reason).register(registry).increment();
      uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.WEBHOOK_REJECTED);
      StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.REJECTED);
      msg.reply(WebhookVerdict.rejected(reason));
      return;
    }
    JsonObject event;
    String id;
    try {
      event = new JsonObject(d.body());
      id = event.getString("id");
    } catch (DecodeException | ClassCastException e) {
      event = null;
      id = null;
    }
    if (event == null || id == null || !id.matches("^evt_[A-Za-z0-9_]{1,200}$") || !wellFormed(event)) {
      // Signed by Stripe yet not an event we can store: refuse loudly rather than store junk.
      Counter.builder("tf_stripe_webhook_rejected").tag("reason", "unparseable").register(registry).increment();
      uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.WEBHOOK_REJECTED);
      StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.REJECTED);
      msg.reply(WebhookVerdict.rejected("unparseable"));
      return;
    }
    noteVersion(event.getString("api_version"));
    String eventId = id;
    events.store(event, eventId).onComplete(ar -> {
      if (ar.failed()) {
        log.error("stripe event {} could not be stored", eventId, ar.cause());
        msg.fail(503, "event store unavailable");
        return;
      }
      boolean fresh = ar.result();
      Counter.builder("tf_stripe_webhook_stored").tag("duplicate", Boolean.toString(!fresh)).register(registry).increment();
      StripeWebhookMetrics.count(fresh ? StripeWebhookMetrics.Outcome.STORED : StripeWebhookMetrics.Outcome.DUPLICATE);
      msg.reply(WebhookVerdict.stored(!fresh));
      if (fresh) {
        process(eventId);
      }
    });
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
      Counter.builder("tf_stripe_webhook_api_version_mismatch").tag("version", version).register(registry).increment();
      if (warnedVersions.add(version)) {
        log.warn("stripe event api_version {} differs from the pinned {}; applying by id and re-reading at the pinned version "
            + "(set the endpoint's API version to match)", version, Stripe.API_VERSION);
      }
    }
  }

  /** Claims and applies one event; a failure marks it failed for a later retry. */
  Future<Void> process(String id) {
    if (handling >= MAX_HANDLING) {
      return Future.succeededFuture();
    }
    handling++;
    return events.claim(id).compose(claimed -> claimed.isEmpty() ? Future.<Void>succeededFuture()
        : handler.apply(claimed.get()).recover(e -> {
          log.warn("stripe event {} failed (attempt {}): {}", id, claimed.get().attempts(), e.toString());
          Counter.builder("tf_stripe_webhook_failed").register(registry).increment();
          StripeWebhookMetrics.count(StripeWebhookMetrics.Outcome.FAILED);
          return events.failed(id, e.getClass().getSimpleName() + ": " + e.getMessage());
        }))
        .recover(e -> {
          log.error("stripe event {} could not be claimed or marked", id, e);
          return Future.succeededFuture();
        })
        .andThen(ar -> handling--);
  }

  private void poll() {
    if (polling) {
      return;
    }
    int room = MAX_HANDLING - handling;
    if (room <= 0) {
      return;
    }
    polling = true;
    events.due(room)
        .compose(ids -> Future.join(ids.stream().map(this::process).toList()))
        .onComplete(ar -> polling = false);
  }
}
