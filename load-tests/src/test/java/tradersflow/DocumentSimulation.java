package tradersflow;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import java.time.Duration;

/**
 * Large documents: {@code users} (10) tradespeople each upload a {@code mib} (50) MiB JPEG
 * ({@code file}, made by run.sh), fetch its signed URL, download it (every byte counted) and
 * delete it, in a loop: ten concurrent 50 MiB transfers. Target: at least {@code minMiBps} (100)
 * MiB/s each way, i.e. uploads and downloads each at least minMiBps / mib a second, no failure.
 * The server's heap growth is measured outside (run.sh reads jvm_memory_used_bytes from /metrics
 * before, every second during, and after the run). Seed: {@code LoadSeed 10 1}; the server needs
 * TF_UPLOAD_MAX_BYTES above the file's size.
 */
public class DocumentSimulation extends Simulation {
  static final int USERS = Load.users(10);
  static final double MIB = Load.number("mib", 50);
  static final String FILE = System.getProperty("file", "target/document.jpg");
  static final double MIN_RATE = Load.number("minMiBps", 100) / MIB;
  static final String UP = "POST /api/v1/documents (upload)";
  static final String DOWN = "GET /files/… (download)";

  ScenarioBuilder documents = scenario("tradesperson uploads and downloads a large photo")
      .feed(csv(Load.TOKENS).circular())
      .during(Duration.ofSeconds(Load.SECONDS)).on(
          exec(Load.upload(UP, FILE))
              .exec(http("GET /api/v1/documents/{id}/url")
                  .get("/api/v1/documents/#{documentId}/url")
                  .header("Authorization", "Bearer #{token}")
                  .check(status().is(200))
                  .check(jsonPath("$.url").saveAs("url")))
              .exec(http(DOWN)
                  .get("#{url}")
                  .check(status().is(200))
                  .check(bodyLength().is((int) (MIB * 1024 * 1024))))
              .exec(http("DELETE /api/v1/documents/{id}")
                  .delete("/api/v1/documents/#{documentId}")
                  .header("Authorization", "Bearer #{token}")
                  .check(status().in(200, 204))));

  {
    setUp(documents.injectClosed(constantConcurrentUsers(USERS).during(Duration.ofSeconds(Load.SECONDS))))
        .protocols(Load.protocol())
        .maxDuration(Duration.ofSeconds(Load.SECONDS + 120))
        .assertions(
            global().failedRequests().count().is(0L),
            details(UP).requestsPerSec().gte(MIN_RATE),
            details(DOWN).requestsPerSec().gte(MIN_RATE));
  }
}
