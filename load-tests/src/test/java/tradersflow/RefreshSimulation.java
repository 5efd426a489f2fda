package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.time.Duration;

/**
 * Refresh-token rotation ({@code POST /api/v1/auth/refresh}) at 64 concurrent users: each user
 * takes one seeded session's refresh token and rotates it in a loop, presenting each answer's new
 * token next (a spent one presented again would revoke the family and fail the run). Target:
 * at least 5,000 a second ({@code minRps}), no failure. Seed with at least as many accounts as
 * users: {@code LoadSeed 200 1 tokens.csv --refresh} (the feeder is a queue: one family per user).
 */
public class RefreshSimulation extends Simulation {
  static final int USERS = Load.users(64);

  ScenarioBuilder refresh = scenario("app refreshes its token pair")
      .feed(csv(Load.TOKENS).queue())
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          exec(http("POST /api/v1/auth/refresh")
              .post("/api/v1/auth/refresh")
              .body(StringBody("{\"refreshToken\":\"#{refreshToken}\"}"))
              .check(status().is(200))
              .check(jsonPath("$.refreshToken").saveAs("refreshToken"))));

  {
    setUp(refresh.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 30))
        .assertions(
            global().failedRequests().count().is(0L),
            global().requestsPerSec().gte(Load.number("minRps", 5000)));
  }
}
