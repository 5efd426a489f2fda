package uk.co.tradersflow.error;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.http.ProblemResponder;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.ResettingProxy;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestEnvironment;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** PostgreSQL's connections reset mid-request (a crash, a restart, a failover): 503 and retry, never 500. */
class DatabaseResetTest {
    static ResettingProxy proxy;
    static TestServer server;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                TestEnvironment env = TestEnvironment.get();
                proxy = new ResettingProxy(env.pgHost, env.pgPort);
                String viaProxy = env.appUrl()
                        .replace("@" + env.pgHost + ":" + env.pgPort + "/", "@127.0.0.1:" + proxy.port() + "/");
                return Map.of("TF_DB_URL", viaProxy);
            })
            .closing(() -> proxy)
            .then(s -> server = s)
            .then(s -> user = new TestUsers(s).create());

    @Test
    void aConnectionResetMidRequestIs503ServiceUnavailableAndTheNextRequestWorks() throws Exception {
        CutOff cut = listCutOffBy(proxy::resetAll);
        HttpResponse<Buffer> r = cut.reply();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
        assertThat(r.getHeader("Content-Type")).isEqualTo(ProblemResponder.CONTENT_TYPE);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("service_unavailable");
        assertThat(cut.log()).contains("dependency unavailable").doesNotContain("unexpected failure");
        HttpResponse<Buffer> after = server.send(HttpMethod.GET, "/api/v1/customers", user.token());
        assertThat(after.statusCode()).as("the pool reconnects").isEqualTo(200);
    }

    @Test
    void aBackendTerminatedMidRequestIs503ServiceUnavailable() throws Exception {
        CutOff cut = listCutOffBy(() -> {
            try (Connection killer = server.env.admin();
                    Statement k = killer.createStatement()) {
                k.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                        + "AND usename = 'tf_app' AND wait_event_type = 'Lock'");
            }
        });
        HttpResponse<Buffer> r = cut.reply();
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("service_unavailable");
        assertThat(cut.log()).doesNotContain("unexpected failure");
        assertThat(server.send(HttpMethod.GET, "/api/v1/customers", user.token())
                        .statusCode())
                .isEqualTo(200);
    }

    /** What a request answered when its connection was cut, and what the server logged meanwhile. */
    private record CutOff(HttpResponse<Buffer> reply, String log) {}

    @FunctionalInterface
    private interface Cut {
        void run() throws Exception;
    }

    /**
     * Sends a customer list that a table lock holds inside PostgreSQL, runs {@code cut} against its
     * connection while it waits there, then lifts the lock.
     */
    private static CutOff listCutOffBy(Cut cut) throws Exception {
        try (Connection admin = server.env.admin();
                Statement s = admin.createStatement();
                LogCapture logs = new LogCapture()) {
            admin.setAutoCommit(false);
            s.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
            Future<HttpResponse<Buffer>> pending = server.request(HttpMethod.GET, "/api/v1/customers", user.token())
                    .send();
            awaitAppBackendWaitingOnALock();
            cut.run();
            HttpResponse<Buffer> r = TestServer.await(pending);
            admin.rollback();
            return new CutOff(r, logs.text());
        }
    }

    /** From a connection of its own: inside the locking transaction pg_stat_activity would be a snapshot. */
    private static void awaitAppBackendWaitingOnALock() throws Exception {
        try (Connection c = server.env.admin();
                Statement s = c.createStatement()) {
            for (int i = 0; i < 200; i++) {
                try (ResultSet rs =
                        s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                + "AND usename = 'tf_app' AND wait_event_type = 'Lock'")) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return;
                    }
                }
                Thread.sleep(25);
            }
        }
        throw new AssertionError("the request never reached PostgreSQL");
    }
}
