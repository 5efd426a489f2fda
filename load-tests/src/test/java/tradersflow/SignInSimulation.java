package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Sign-in ({@code POST /api/v1/auth/login}, Argon2id at the server's configured cost) while the
 * invoice list runs beside it: two scenarios in one run. {@code loginUsers} (8) users sign in in a
 * loop, alternating a seeded user's right password (200) and an unknown email (401, which must
 * cost the same time: compare the two requests' mean and p50 in the report); {@code listUsers}
 * (32) users list invoices. Assertions: no failed request, the list's p99 < 50 ms (hashing must
 * not starve the event loops or the list's connections), and sign-ins per second of both kinds
 * at least {@code minLoginRps} (default 0: set it to 90 % of the raw Argon2id rate measured by
 * run-argon2.sh on the same machine). Seed: {@code LoadSeed 200 30 tokens.csv --login}; the
 * server needs TF_LOGIN_IP_LIMIT_PER_MINUTE high enough for the rate (run.sh sets 100,000, the most it takes).
 */
public class SignInSimulation extends Simulation {
  static final int LOGIN_USERS = Integer.getInteger("loginUsers", 8);
  static final int LIST_USERS = Integer.getInteger("listUsers", 32);
  static final String LIST = "GET /api/v1/invoices?limit=20";

  /** A fresh unknown address each time, so no lockout counter ever reaches its limit. */
  Iterator<Map<String, Object>> unknown =
      Stream.generate(() -> Map.<String, Object>of("unknownEmail", "nobody-" + UUID.randomUUID() + "@example.test"))
          .iterator();

  ScenarioBuilder signIns = scenario("sign-in, known and unknown emails")
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          feed(csv(Load.TOKENS).circular())
              .feed(unknown)
              .exec(http("POST /auth/login (known)")
                  .post("/api/v1/auth/login")
                  .body(StringBody("{\"email\":\"#{email}\",\"password\":\"#{password}\"}"))
                  .check(status().is(200))
                  .check(substring("\"refreshToken\"").exists()))
              .exec(http("POST /auth/login (unknown)")
                  .post("/api/v1/auth/login")
                  .body(StringBody("{\"email\":\"#{unknownEmail}\",\"password\":\"#{password}\"}"))
                  .check(status().is(401))));

  ScenarioBuilder lists = scenario("tradesperson lists 20 newest invoices")
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          feed(csv(Load.TOKENS).circular())
              .exec(http(LIST)
                  .get("/api/v1/invoices?limit=20")
                  .header("Authorization", "Bearer #{token}")
                  .check(status().is(200))
                  .check(substring("\"customerId\":").count().is(20))));

  {
    setUp(
            signIns.injectClosed(constantConcurrentUsers(LOGIN_USERS).during(Duration.ofSeconds(Load.SECONDS))),
            lists.injectClosed(constantConcurrentUsers(LIST_USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 30))
        .assertions(
            global().failedRequests().count().is(0L),
            details(LIST).responseTime().percentile(99.0).lt(50),
            details("POST /auth/login (known)").requestsPerSec().gte(Load.number("minLoginRps", 0) / 2),
            details("POST /auth/login (unknown)").requestsPerSec().gte(Load.number("minLoginRps", 0) / 2));
  }
}
