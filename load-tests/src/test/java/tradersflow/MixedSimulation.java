package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A day's mix at {@code users} (64) concurrent users: lists and reads 80 % (invoice list 60,
 * {@code /me} 20), writes 15 % (an invoice of 3 lines), sign-ins 4 % (Argon2id at the server's
 * cost), uploads 1 % (a {@code mixedFile} JPEG of 1 MiB, deleted again so a long run does not fill
 * the disk). Assertions: no failed request, the list's p99 < {@code listP99} (50) ms. Used for the
 * 10-minute memory run (run.sh with MEMORY=1). Seed: {@code LoadSeed 200 30 tokens.csv --customer
 * --login}; the server needs TF_LOGIN_IP_LIMIT_PER_MINUTE high (run.sh sets it). With
 * {@code stopFile}, the run also ends as soon as that file exists (two-instances.sh: when its kill,
 * rolling deploy and checks are over; {@code seconds} is then only the longest it may last).
 */
public class MixedSimulation extends Simulation {
  static final int USERS = Load.users(64);
  static final String FILE = System.getProperty("mixedFile", "target/mixed.jpg");
  static final String LIST = "GET /api/v1/invoices?limit=20";
  static final String STOP_FILE = System.getProperty("stopFile", "");

  ChainBuilder list = exec(http(LIST)
      .get("/api/v1/invoices?limit=20")
      .header("Authorization", "Bearer #{token}")
      .check(status().is(200)));

  ChainBuilder me = exec(http("GET /api/v1/me")
      .get("/api/v1/me")
      .header("Authorization", "Bearer #{token}")
      .check(status().is(200)));

  ChainBuilder write = exec(http("POST /api/v1/invoices")
      .post("/api/v1/invoices")
      .header("Authorization", "Bearer #{token}")
      .body(StringBody(Load.INVOICE_BODY))
      .check(status().is(201)));

  ChainBuilder signIn = exec(http("POST /api/v1/auth/login")
      .post("/api/v1/auth/login")
      .body(StringBody("{\"email\":\"#{email}\",\"password\":\"#{password}\"}"))
      .check(status().is(200)));

  ChainBuilder upload = exec(Load.upload("POST /api/v1/documents", FILE))
      .exec(http("DELETE /api/v1/documents/{id}")
          .delete("/api/v1/documents/#{documentId}")
          .header("Authorization", "Bearer #{token}")
          .check(status().in(200, 204)));

  ScenarioBuilder day = scenario("a day's mix")
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          stopLoadGeneratorIf("stopFile exists", session -> !STOP_FILE.isEmpty() && Files.exists(Path.of(STOP_FILE)))
              .feed(csv(Load.TOKENS).circular())
              .randomSwitch().on(
                  percent(60.0).then(list),
                  percent(20.0).then(me),
                  percent(15.0).then(write),
                  percent(4.0).then(signIn),
                  percent(1.0).then(upload)));

  {
    setUp(day.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 60))
        .assertions(
            global().failedRequests().count().is(0L),
            details(LIST).responseTime().percentile(99.0).lt((int) Load.number("listP99", 50)));
  }
}
