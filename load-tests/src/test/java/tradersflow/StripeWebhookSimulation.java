package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stripe webhook deliveries ({@code POST /webhooks/stripe}) at 64 concurrent senders, each signed
 * with the webhook secret ({@code webhookSecret}, the server's TF_STRIPE_WEBHOOK_SECRET) at the
 * moment it is sent. One delivery in five ({@code duplicates}, 0.2) is a redelivery of an event
 * already sent (Stripe retries), and events arrive out of order: each event's {@code created} is
 * up to two minutes in the past, at random, and the subscription states of one customer are
 * interleaved. Every delivery must get 200. Target: at least 3,000 a second ({@code minRps}).
 *
 * <p>After the run the ids of the distinct events accepted (answered 200) are written to {@code sentIds}
 * (target/stripe-sent-ids.txt), so the database can be counted: each sent event stored once and
 * handled once ({@code load-tests/check-stripe-events.sh}, which run.sh runs). The events are
 * subscription updates for customers no account has, so handling is storing, claiming and
 * marking them ignored: the path every event takes before its own effect.
 */
public class StripeWebhookSimulation extends Simulation {
  static final int USERS = Load.users(64);
  static final String SECRET = System.getProperty("webhookSecret", "whsec_load_test_secret_21");
  static final double DUPLICATES = Load.number("duplicates", 0.2);
  static final Path SENT_IDS = Path.of(System.getProperty("sentIds", "target/stripe-sent-ids.txt"));

  /** Distinct events fed so far; a redelivery picks one of the most recent 1,000. */
  final List<String[]> sent = new ArrayList<>();
  /** Ids of the events whose delivery was answered 200 (a fed event may be left unsent when the run ends). */
  final Set<String> accepted = ConcurrentHashMap.newKeySet();
  long duplicatesSent;

  final Iterator<Map<String, Object>> deliveries = new Iterator<>() {
    @Override
    public boolean hasNext() {
      return true;
    }

    @Override
    public Map<String, Object> next() {
      synchronized (sent) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String[] event;
        if (!sent.isEmpty() && random.nextDouble() < DUPLICATES) {
          event = sent.get(sent.size() - 1 - random.nextInt(Math.min(1000, sent.size())));
          duplicatesSent++;
        } else {
          event = newEvent(random);
          sent.add(event);
        }
        long now = System.currentTimeMillis() / 1000;
        return Map.of(
            "eventId", event[0], "body", event[1], "signature", "t=" + now + ",v1=" + hmac(now + "." + event[1]));
      }
    }
  };

  static String[] newEvent(ThreadLocalRandom random) {
    String id = "evt_load" + UUID.randomUUID().toString().replace("-", "");
    int customer = random.nextInt(500);
    String[] statuses = {"trialing", "active", "past_due", "canceled"};
    long created = System.currentTimeMillis() / 1000 - random.nextInt(120);
    String body = "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2025-03-31.basil\","
        + "\"created\":" + created + ",\"data\":{\"object\":{\"id\":\"sub_load" + customer
        + "\",\"object\":\"subscription\",\"customer\":\"cus_load" + customer + "\",\"status\":\""
        + statuses[random.nextInt(statuses.length)] + "\"}},\"livemode\":false,\"pending_webhooks\":1,"
        + "\"request\":{\"id\":null,\"idempotency_key\":null},\"type\":\"customer.subscription.updated\"}";
    return new String[] {id, body};
  }

  static String hmac(String signed) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(signed.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  ScenarioBuilder stripe = scenario("Stripe delivers webhook events")
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          feed(deliveries)
              .exec(http("POST /webhooks/stripe")
                  .post("/webhooks/stripe")
                  .header("Stripe-Signature", "#{signature}")
                  .body(StringBody("#{body}"))
                  .check(status().is(200)))
              .exec(session -> {
                if (!session.isFailed()) {
                  accepted.add(session.getString("eventId"));
                }
                return session;
              }));

  {
    setUp(stripe.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 30))
        .assertions(
            global().failedRequests().count().is(0L),
            global().requestsPerSec().gte(Load.number("minRps", 3000)));
  }

  @Override
  public void after() {
    synchronized (sent) {
      try {
        Files.createDirectories(SENT_IDS.toAbsolutePath().getParent());
        Files.write(SENT_IDS, accepted);
        System.out.printf(
            "stripe webhook deliveries: %d distinct events accepted (200); %d fed, of which %d redeliveries; ids in %s%n",
            accepted.size(), sent.size() + duplicatesSent, duplicatesSent, SENT_IDS);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
