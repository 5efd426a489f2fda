package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.time.Duration;

/**
 * Creating invoices of three lines ({@code POST /api/v1/invoices}) at 64 concurrent users on 8
 * accounts (8 writers contending for each account's number sequence). Target: at least 3,000 a
 * second ({@code minRps}), no failure; that the numbers came out gap-free per account is counted
 * in the database after the run ({@code load-tests/check-invoice-numbers.sql}, which run.sh runs).
 * Seed: {@code LoadSeed 8 0 tokens.csv --customer}.
 */
public class CreateInvoiceSimulation extends Simulation {
  static final int USERS = Load.users(64);

  ScenarioBuilder create = scenario("tradesperson creates an invoice of 3 lines")
      .feed(csv(Load.TOKENS).circular())
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          exec(http("POST /api/v1/invoices")
              .post("/api/v1/invoices")
              .header("Authorization", "Bearer #{token}")
              .body(StringBody(Load.INVOICE_BODY))
              .check(status().is(201))
              .check(substring("\"totalPence\":11249").exists())));

  {
    setUp(create.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 30))
        .assertions(
            global().failedRequests().count().is(0L),
            global().requestsPerSec().gte(Load.number("minRps", 3000)));
  }
}
