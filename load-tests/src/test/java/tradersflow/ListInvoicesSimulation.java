package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import io.gatling.javaapi.http.*;
import java.time.Duration;

/**
 * Many tradespeople from many accounts, each with its own access token, listing their 20 newest
 * invoices (with lines) over HTTPS keep-alive. Closed model: a constant number of concurrent
 * users, each looping request after request on its own keep-alive connection; every request
 * carries the next seeded tradesperson's token (circular over all accounts).
 *
 * <p>Settings (system properties): {@code baseUrl} (https://127.0.0.1:8443), {@code users} (64),
 * {@code seconds} (60), {@code tokens} (tokens.csv, written by the seeder).
 */
public class ListInvoicesSimulation extends Simulation {
  static final String BASE_URL = System.getProperty("baseUrl", "https://127.0.0.1:8443");
  static final int USERS = Integer.getInteger("users", 64);
  static final int SECONDS = Integer.getInteger("seconds", 60);
  static final String TOKENS = System.getProperty("tokens", "tokens.csv");

  HttpProtocolBuilder protocol = http.baseUrl(BASE_URL)
      .acceptHeader("application/json")
      .disableCaching()
      .disableWarmUp();

  FeederBuilder<String> tokens = csv(TOKENS).circular();

  ScenarioBuilder tradespeople = scenario("tradesperson lists 20 newest invoices")
      .during(Duration.ofSeconds(SECONDS)).on(
          feed(tokens)
              .exec(http("GET /api/v1/invoices?limit=20")
                  .get("/api/v1/invoices?limit=20")
                  .header("Authorization", "Bearer #{token}")
                  .check(status().is(200))
                  // Counted, not parsed: 20 invoices of 3 lines each. Parsing every 6 KB page
                  // as JSON cost the generator more CPU than the server spent answering it.
                  .check(substring("\"customerId\":").count().is(20))
                  .check(substring("\"unitPence\":").count().is(60))));

  {
    setUp(tradespeople.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(SECONDS))))
        .protocols(protocol)
        .maxDuration(Duration.ofSeconds(SECONDS + 30))
        .assertions(
            global().failedRequests().count().is(0L),
            global().responseTime().percentile(99.0).lt(50),
            global().requestsPerSec().gte(4000.0));
  }
}
