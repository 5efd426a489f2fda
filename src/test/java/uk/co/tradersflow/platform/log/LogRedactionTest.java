package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.http.ProblemResponder;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** A bearer token sent to the server never reaches the log output, whatever goes wrong. */
class LogRedactionTest {

    @Test
    void tokensSentInRequestsNeverReachTheLogEvenWhenRequestsFail() {
        try (TestServer server = TestServer.start()) {
            TestUser user = new TestUsers(server).create();
            String garbage = "garbage-token-value-0123456789";
            // A server sharing the keys but whose Postgres is gone: every authenticated request fails
            // inside the guard and is logged as a dependency failure with its request id.
            Map<String, String> down = server.twinWithoutDatabase();
            try (LogCapture logs = new LogCapture();
                    TestServer broken = TestServer.start(down)) {
                for (TestServer s : new TestServer[] {server, broken}) {
                    s.send(HttpMethod.GET, "/api/v1/customers", user.token());
                    s.send(
                            HttpMethod.POST,
                            "/api/v1/customers",
                            user.token(),
                            new JsonObject().put("name", user.token()));
                    s.send(HttpMethod.GET, "/api/v1/customers?token=" + user.token(), garbage);
                    s.send(HttpMethod.GET, "/no/such/route/" + user.token(), user.token());
                }
                String text = logs.text();
                assertThat(text).as("the failing server did log its failures").contains("dependency unavailable");
                assertThat(text).doesNotContain(user.token()).doesNotContain(garbage);
                assertThat(text)
                        .doesNotContain(user.token().substring(user.token().lastIndexOf('.') + 1));
            }
        }
    }

    @Test
    void aHandlerFailureCarryingTheTokenInItsMessageIsRedactedInMessageAndStackTrace() {
        String token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.MEUCIQDxyzSignaturePart";
        String opaque = "0pAqUe-SeSsIoN-tOkEn-9f8e7d";
        try (LogCapture logs = new LogCapture()) {
            // The same logger and form the problem responder uses for an unexpected failure.
            RuntimeException failure = new IllegalStateException(
                    "rejected header Authorization: Bearer " + opaque,
                    new IllegalArgumentException("could not parse " + token));
            LoggerFactory.getLogger(ProblemResponder.class)
                    .error(
                            "unexpected failure request_id={} route={} {}",
                            "req-1",
                            "GET",
                            "/api/v1/x?token=" + opaque,
                            failure);
            String text = logs.text();
            assertThat(text).contains("req-1").contains("IllegalStateException").contains("[REDACTED");
            assertThat(text).doesNotContain(opaque).doesNotContain(token).doesNotContain("MEUCIQDxyz");
        }
    }
}
