package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.POST;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.Api;
import uk.co.tradersflow.platform.http.RouteModule;

/**
 * {@code POST /webhooks/email}: the email provider's delivery events. The signature over the
 * raw body is checked before anything is parsed or stored; a redelivered webhook id changes
 * nothing; hard bounces, complaints and unsubscribes put the address on the suppression list.
 */
public final class EmailWebhookRoutes implements RouteModule {
  private static final Logger log = LoggerFactory.getLogger(EmailWebhookRoutes.class);
  private static final Set<String> TYPES = Set.of("sent", "delivered", "delivery_delayed", "opened", "clicked",
      "bounced", "complained", "unsubscribed", "failed");

  private final Optional<StandardWebhookVerifier> verifier;
  private final EmailEventStore events;

  public EmailWebhookRoutes(Optional<String> secret, Db db, Clock clock) {
    this.verifier = secret.map(s -> new StandardWebhookVerifier(s, clock));
    this.events = new EmailEventStore(db);
  }

  @Override
  public void mount(Router router, Api api) {
    api.open(router, POST, "/webhooks/email").handler(this::receive);
  }

  private void receive(RoutingContext ctx) {
    if (verifier.isEmpty()) {
      ctx.fail(AppError.of(ErrorCode.WEBHOOK_NOT_CONFIGURED, "Email webhooks are not configured on this server"));
      return;
    }
    byte[] body = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    String id = header(ctx, "id");
    if (!verifier.get().verify(id, header(ctx, "timestamp"), header(ctx, "signature"), body)) {
      uk.co.tradersflow.platform.metrics.SecurityEvents.record(uk.co.tradersflow.platform.metrics.SecurityEvents.Event.WEBHOOK_REJECTED);
      ctx.fail(AppError.of(ErrorCode.INVALID_SIGNATURE, "The webhook signature is missing, invalid or too old"));
      return;
    }
    Optional<EmailEventStore.ProviderEvent> event = parse(body);
    if (event.isEmpty()) {
      // Signed by the provider but not an event we track: acknowledge, or it is redelivered forever.
      Api.json(ctx, 200, new JsonObject().put("received", true).put("ignored", true));
      return;
    }
    events.record(id, event.get()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
        return;
      }
      if (ar.result() == EmailEventStore.Outcome.UNKNOWN_MESSAGE) {
        log.info("email webhook {} ({}) names no message of ours", id, event.get().type());
      }
      Api.json(ctx, 200, new JsonObject().put("received", true).put("duplicate", ar.result() == EmailEventStore.Outcome.DUPLICATE));
    });
  }

  /** Standard Webhooks headers, or the same ones with the {@code svix-} prefix. */
  private static String header(RoutingContext ctx, String name) {
    String value = ctx.request().getHeader("webhook-" + name);
    return value != null ? value : ctx.request().getHeader("svix-" + name);
  }

  static Optional<EmailEventStore.ProviderEvent> parse(byte[] body) {
    try {
      JsonObject json = new JsonObject(io.vertx.core.buffer.Buffer.buffer(body));
      String type = String.valueOf(json.getString("type")).toLowerCase(Locale.ROOT).replaceFirst("^email\\.", "");
      if (!TYPES.contains(type)) {
        return Optional.empty();
      }
      JsonObject data = json.getJsonObject("data", new JsonObject());
      OffsetDateTime at = Optional.ofNullable(json.getString("created_at"))
          .map(OffsetDateTime::parse).orElse(OffsetDateTime.now(ZoneOffset.UTC));
      JsonObject bounce = data.getJsonObject("bounce", new JsonObject());
      String bounceType = String.valueOf(bounce.getString("type", "permanent")).toLowerCase(Locale.ROOT);
      boolean hard = !(bounceType.startsWith("transient") || bounceType.startsWith("soft") || bounceType.startsWith("undetermined"));
      JsonObject detail = new JsonObject().put("to", data.getValue("to")).put("bounce", bounce.isEmpty() ? null : bounce);
      return Optional.of(new EmailEventStore.ProviderEvent(type, messageTag(data.getValue("tags")),
          Optional.ofNullable(data.getString("email_id")), at, detail, hard));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** {@code tags} is an object ({@code {tf_message_id: …}}) or a list of {@code {name, value}}. */
  private static Optional<UUID> messageTag(Object tags) {
    String value = null;
    if (tags instanceof JsonObject object) {
      value = object.getString("tf_message_id");
    } else if (tags instanceof JsonArray array) {
      for (Object tag : array) {
        if (tag instanceof JsonObject t && "tf_message_id".equals(t.getString("name"))) {
          value = t.getString("value");
        }
      }
    }
    try {
      return Optional.ofNullable(value).map(UUID::fromString);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
