package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.InvoiceRequests;
import uk.co.tradersflow.support.LocalPgBouncer;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * The server with every runtime and worker connection through a PgBouncer in transaction mode
 * (TF_DB_URL {@code ?pgbouncer=true}): a transaction's {@code set_config('app.account_id', …, true)}
 * is transaction-local, so whichever server connection PgBouncer hands each transaction, the
 * scope travels with it and ends with it. Few server connections and many concurrent requests of
 * two accounts make PgBouncer interleave their transactions on the same connections.
 */
class PgBouncerTransactionModeTest {
    static LocalPgBouncer bouncer;
    static TestServer server;
    static TestUser a;
    static TestUser b;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                assumeTrue(LocalPgBouncer.installed(), "pgbouncer is not installed (apt-get install -y pgbouncer)");
                bouncer = LocalPgBouncer.start(3);
                return Map.of("TF_DB_URL", bouncer.appUrl());
            })
            .closing(() -> bouncer)
            .then(s -> server = s)
            .then(TestUsers.twoAccounts((first, second) -> {
                a = first;
                b = second;
            }));

    static String customerA;
    static String customerB;

    @BeforeAll
    static void customers() {
        customerA = server.createCustomer(a.token());
        customerB = server.createCustomer(b.token());
    }

    @Test
    void signUpThroughPgBouncerCreatesTheAccountAndQueuesItsEmail() {
        String email = "bouncer-" + UUID.randomUUID() + "@example.test";
        HttpResponse<Buffer> signup = TestServer.await(server.request(HttpMethod.POST, "/api/v1/auth/signup")
                .sendJsonObject(new JsonObject()
                        .put("email", email)
                        .put("password", "through the pooler, transaction by transaction")
                        .put("businessName", "Bouncer Ltd")));

        assertThat(signup.statusCode()).as(signup.bodyAsString()).isEqualTo(201);
        assertThat(Sql.admin().count("SELECT count(*) FROM users WHERE email = ?", email))
                .isEqualTo(1);
        assertThat(Sql.admin().count("SELECT count(*) FROM email_outbox WHERE recipient = ?", email))
                .isEqualTo(1);
    }

    @Test
    void concurrentWritesAndListsOfTwoAccountsEachSeeOnlyTheirOwnThroughSharedServerConnections() {
        List<Future<HttpResponse<Buffer>>> writes = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            writes.add(createInvoice(a.token(), customerA, 100 + i));
            writes.add(createInvoice(b.token(), customerB, 200 + i));
        }
        TestServer.await(Future.all(writes));
        assertThat(writes).allSatisfy(w -> assertThat(w.result().statusCode())
                .as(w.result().bodyAsString())
                .isEqualTo(201));

        List<Future<HttpResponse<Buffer>>> listsA = new ArrayList<>();
        List<Future<HttpResponse<Buffer>>> listsB = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            listsA.add(server.request(HttpMethod.GET, "/api/v1/invoices?limit=50", a.token())
                    .send());
            listsB.add(server.request(HttpMethod.GET, "/api/v1/invoices?limit=50", b.token())
                    .send());
        }
        TestServer.await(Future.all(List.of(Future.all(listsA), Future.all(listsB))));
        for (var list : listsA) {
            assertThat(customersIn(list.result())).containsOnly(customerA).hasSize(20);
        }
        for (var list : listsB) {
            assertThat(customersIn(list.result())).containsOnly(customerB).hasSize(20);
        }
        assertThat(Sql.admin()
                        .strings(
                                "SELECT string_agg(number::text, ',' ORDER BY number) FROM invoices WHERE account_id = ?",
                                a.accountId()))
                .as("numbers gap-free, each once")
                .containsExactly(String.join(
                        ",",
                        java.util.stream.IntStream.rangeClosed(1, 20)
                                .mapToObj(Integer::toString)
                                .toList()));

        String bsInvoice = writes.get(1).result().bodyAsJsonObject().getString("id");
        assertThat(server.send(HttpMethod.GET, "/api/v1/invoices/" + bsInvoice, a.token())
                        .statusCode())
                .as("B's invoice does not exist for A")
                .isEqualTo(404);
        // Directly, 40 requests in flight would have opened the runtime pool's 8 connections and the
        // list client's 2: PgBouncer held PostgreSQL to its 3 per user.
        assertThat(Sql.admin()
                        .count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                + "AND usename = 'tf_app'"))
                .as("PostgreSQL connections of the runtime role: PgBouncer's, at most 3")
                .isBetween(1L, 3L);
    }

    private static Future<HttpResponse<Buffer>> createInvoice(String token, String customer, long unitPence) {
        return server.request(HttpMethod.POST, "/api/v1/invoices", token)
                .sendJsonObject(new JsonObject()
                        .put("customerId", customer)
                        .put("lines", new JsonArray().add(InvoiceRequests.line("Labour", 1, unitPence))));
    }

    private static List<String> customersIn(HttpResponse<Buffer> list) {
        assertThat(list.statusCode()).as(list.bodyAsString()).isEqualTo(200);
        JsonArray items = list.bodyAsJsonObject().getJsonArray("items");
        List<String> customers = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            customers.add(items.getJsonObject(i).getString("customerId"));
        }
        return customers;
    }
}
