package uk.co.tradersflow.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.csv;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * Many tradespeople from many accounts, each with its own token, listing their 20 newest
 * invoices (with lines) over HTTPS keep-alive: 64 concurrent users, each on its own
 * connection, requesting back to back for {@code duration} seconds (60 by default).
 * Target on a 2-core machine, this generator included: ≥ 4,000 req/s, p99 < 50 ms, no errors.
 */
public class InvoiceListSimulation extends Simulation {
  private static final int USERS = Integer.getInteger("users", 64);
  private static final Duration DURATION = Duration.ofSeconds(Integer.getInteger("duration", 60));
  private static final String BASE_URL = System.getProperty("baseUrl", "https://localhost:8443");

  private final HttpProtocolBuilder protocol = http.baseUrl(BASE_URL)
      .acceptHeader("application/json")
      .userAgentHeader("tradersflow-load-test");

  private final ScenarioBuilder listInvoices = scenario("list 20 newest invoices")
      .feed(csv(System.getProperty("tokens", "target/tokens.csv")).circular())
      .during(DURATION).on(
          http("GET /api/v1/invoices?limit=20")
              .get("/api/v1/invoices?limit=20")
              .header("Authorization", "Bearer #{token}")
              .check(status().is(200))
              .check(jsonPath("$.items[19].number").exists()));

  {
    setUp(listInvoices.injectOpen(atOnceUsers(USERS)))
        .protocols(protocol)
        .assertions(
            global().failedRequests().count().is(0L),
            global().responseTime().percentile(99.0).lt(50));
  }
}
