package uk.co.tradersflow.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TrustAllTls;

/**
 * /health/ready is public, and each check logs in to PostgreSQL afresh as the worker: answered
 * per request, a flood of it forked a database backend per call, up to max_connections. Calls now
 * join the check in flight or take an answer younger than half a second.
 */
class ReadinessFloodTest {
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.withDefaults().then(s -> server = s);

    /** Sessions PostgreSQL has opened for this database so far (its own statistics). */
    private static long sessions() {
        return Sql.admin().count("SELECT sessions FROM pg_stat_database WHERE datname = current_database()");
    }

    @Test
    void sixtyConcurrentReadinessCallsShareAFewChecksInsteadOfLoggingInEach() throws Exception {
        assertThat(TestServer.await(
                                server.request(HttpMethod.GET, "/health/ready").send())
                        .statusCode())
                .isEqualTo(200);
        Thread.sleep(1500); // the warm-up's own login counted, the statistics flushed
        long before = sessions();
        // Sixty connections, so the sixty calls are in flight together (the default pool sends 5 at a time).
        WebClient client = WebClient.create(
                server.vertx,
                TrustAllTls.webClient(server.config.http().httpsPort()),
                new PoolOptions().setHttp1MaxSize(60));
        List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            calls.add(client.get("/health/ready").send());
        }
        for (Future<HttpResponse<Buffer>> call : calls) {
            HttpResponse<Buffer> r = TestServer.await(call);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
            assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("UP");
        }
        Thread.sleep(1500); // a closed session's statistics reach the shared counters on its exit
        long opened = sessions() - before;
        client.close();
        // At most a check a half second (a worker login and a ping's connection each): the sixty
        // calls, TLS handshakes included, take well under two seconds.
        assertThat(opened).as("database sessions opened by 60 readiness calls").isLessThanOrEqualTo(10);
    }
}
