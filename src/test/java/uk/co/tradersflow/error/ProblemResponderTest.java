package uk.co.tradersflow.error;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** Errors leave through one door: problem+json with a stable code, never internals. */
class ProblemResponderTest {
    static TestServer server;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> user = new TestUsers(s).create());

    @Test
    void anUnknownRouteIs404ProblemJson() {
        HttpResponse<Buffer> r = TestServer.await(
                server.request(HttpMethod.GET, "/api/v1/nothing-here?x=1").send());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/problem+json");
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.getString("type")).startsWith("https://");
        assertThat(body.getString("title")).isNotBlank();
        assertThat(body.getInteger("status")).isEqualTo(404);
        assertThat(body.getString("detail")).isNotBlank();
        assertThat(body.getString("code")).isEqualTo("not_found");
    }

    @Test
    void aPathIdThatIsNotAUuidIs404NotAnError() {
        HttpResponse<Buffer> r = server.send(HttpMethod.GET, "/api/v1/customers/'%20or%201=1--", user.token());
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("not_found");
    }

    @Test
    void aBadListLimitIs400WithACode() {
        HttpResponse<Buffer> r = server.send(HttpMethod.GET, "/api/v1/customers?limit=1000", user.token());
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("malformed_request");
        HttpResponse<Buffer> c = server.send(HttpMethod.GET, "/api/v1/customers?cursor=bm90LWEtY3Vyc29y", user.token());
        assertThat(c.statusCode()).isEqualTo(400);
        assertThat(c.bodyAsJsonObject().getString("code")).isEqualTo("malformed_request");
        HttpResponse<Buffer> pct = server.send(HttpMethod.GET, "/api/v1/customers?cursor=%zz", user.token());
        assertThat(pct.statusCode()).as(pct.bodyAsString()).isEqualTo(400);
    }

    @Test
    void anUnexpectedDatabaseFailureIsAGeneric500AndTheLogCarriesTheRequestId() throws SQLException {
        // A database surprise the code cannot foresee: a constraint added behind the server's back.
        String marker = "boom-" + System.nanoTime();
        Sql.admin()
                .execute(
                        """
        CREATE FUNCTION pg_temp_surprise() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.name = '%s' THEN
            RAISE EXCEPTION 'new row for relation "customers" violates check constraint "surprise" SELECT secret FROM internal'
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$"""
                                .formatted(marker));
        Sql.admin()
                .execute(
                        "CREATE TRIGGER surprise BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION pg_temp_surprise()");
        try (LogCapture logs = new LogCapture()) {
            HttpResponse<Buffer> r = server.send(
                    HttpMethod.POST, "/api/v1/customers", user.token(), new JsonObject().put("name", marker));
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.getHeader("Content-Type")).isEqualTo("application/problem+json");
            JsonObject body = r.bodyAsJsonObject();
            assertThat(body.getString("code")).isEqualTo("internal_error");
            assertThat(r.bodyAsString())
                    .doesNotContain("relation", "constraint", "SELECT", "surprise", "Exception", "\tat ");
            String requestId = r.getHeader("X-Request-Id");
            assertThat(logs.text()).contains("request_id=" + requestId).contains("surprise");
        } finally {
            Sql.admin().execute("DROP TRIGGER surprise ON customers");
            Sql.admin().execute("DROP FUNCTION pg_temp_surprise()");
        }
    }

    @Test
    void aWrongMethodOnAKnownPathIsAProblemToo() {
        HttpResponse<Buffer> r = server.send(HttpMethod.PUT, "/api/v1/customers", user.token());
        assertThat(r.statusCode()).isIn(404, 405);
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/problem+json");
    }
}
