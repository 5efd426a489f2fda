package uk.co.tradersflow.support;

import static io.vertx.core.http.HttpMethod.GET;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;

/**
 * {@code GET /admin/api/analytics} as it answers, and as it answers once the figures' summary
 * (V037) holds what the database holds now: for tests that prove a figure by what their own rows
 * change, where a summary stored a moment before those rows would hide them.
 */
public final class AdminFigures {
    private static final long WAIT_FOR_LOCK_MS = 10_000;

    private AdminFigures() {}

    /** The figures as the server serves them now (the summary, when young enough). */
    public static JsonObject served(TestServer server, String token) {
        HttpResponse<Buffer> r = server.send(GET, "/admin/api/analytics", token);
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /**
     * The figures as of now: the summary stored afresh first (waiting while a server's job holds the
     * refresh lock: the summary it stores may predate the caller's last rows), then served.
     */
    public static JsonObject now(TestServer server, String token) {
        long deadline = System.currentTimeMillis() + WAIT_FOR_LOCK_MS;
        while (!Boolean.TRUE.equals(Sql.admin().value("SELECT admin_refresh_figures(30, 0)"))) {
            assertThat(System.currentTimeMillis())
                    .as("the figures' refresh lock was free within 10 s")
                    .isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for the figures' refresh lock", e);
            }
        }
        return served(server, token);
    }
}
