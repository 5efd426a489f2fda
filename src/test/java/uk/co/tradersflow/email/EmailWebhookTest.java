package uk.co.tradersflow.email;

import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** {@code POST /webhooks/email}: Standard Webhooks signatures first, then dedupe, events and suppression. */
class EmailWebhookTest {
    static final String SECRET = "whsec_"
            + Base64.getEncoder().encodeToString("a-test-signing-key-of-32-bytes!!".getBytes(StandardCharsets.UTF_8));
    static final String OTHER = "whsec_"
            + Base64.getEncoder().encodeToString("another-key-nobody-configured-!!".getBytes(StandardCharsets.UTF_8));
    static TestServer server;
    static TestEmails emails;
    static TestUser user;

    // SMTP points nowhere: these tests are about events, not delivery.
    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_EMAIL_WEBHOOK_SECRET", SECRET, "TF_SMTP_PORT", Integer.toString(TestServer.freePort())))
            .then(s -> {
                server = s;
                emails = new TestEmails(server);
                user = new TestUsers(server).create();
            });

    private static String signature(String secret, String id, long timestamp, String body) {
        byte[] mac = new StandardWebhookVerifier(secret, Clock.systemUTC())
                .sign(id, Long.toString(timestamp), body.getBytes(StandardCharsets.UTF_8));
        return "v1," + Base64.getEncoder().encodeToString(mac);
    }

    private static HttpResponse<Buffer> post(String prefix, String id, long timestamp, String signature, String body) {
        HttpRequest<Buffer> request =
                server.request(POST, "/webhooks/email").putHeader("Content-Type", "application/json");
        if (id != null) {
            request.putHeader(prefix + "id", id);
        }
        request.putHeader(prefix + "timestamp", Long.toString(timestamp));
        if (signature != null) {
            request.putHeader(prefix + "signature", signature);
        }
        return TestServer.await(request.sendBuffer(Buffer.buffer(body)));
    }

    private static String event(String type, UUID messageId, JsonObject extra) {
        JsonObject data = new JsonObject()
                .put("email_id", "prov-" + UUID.randomUUID())
                .put("to", new JsonArray().add("x@customer.test"))
                .put("tags", new JsonObject().put("tf_message_id", messageId.toString()));
        extra.forEach(e -> data.put(e.getKey(), e.getValue()));
        return new JsonObject()
                .put("type", type)
                .put("created_at", Instant.now().toString())
                .put("data", data)
                .encode();
    }

    private static UUID queued(String recipient) {
        return emails.enqueue(
                        user.accountId(),
                        "trial_ending",
                        recipient,
                        new JsonObject().put("trialEnd", "soon"),
                        "wh:" + UUID.randomUUID())
                .orElseThrow();
    }

    private static long count(String sql, Object arg) throws Exception {
        return Sql.admin().count(sql, arg);
    }

    @Test
    void unsignedTamperedStaleFutureAndWronglyKeyedEventsAreRefusedAndNothingIsStored() throws Exception {
        UUID message = queued("reject-" + UUID.randomUUID() + "@customer.test");
        String body = event("email.delivered", message, new JsonObject());
        long now = Instant.now().getEpochSecond();
        String id = "msg_" + UUID.randomUUID();
        HttpResponse<Buffer> unsigned = post("webhook-", id, now, null, body);
        HttpResponse<Buffer> tampered =
                post("webhook-", id, now, signature(SECRET, id, now, body), body.replace("delivered", "bounced"));
        HttpResponse<Buffer> stale = post("webhook-", id, now - 360, signature(SECRET, id, now - 360, body), body);
        HttpResponse<Buffer> future = post("webhook-", id, now + 360, signature(SECRET, id, now + 360, body), body);
        HttpResponse<Buffer> wrongKey = post("webhook-", id, now, signature(OTHER, id, now, body), body);
        HttpResponse<Buffer> otherId = post("webhook-", id + "x", now, signature(SECRET, id, now, body), body);
        for (HttpResponse<Buffer> r : java.util.List.of(unsigned, tampered, stale, future, wrongKey, otherId)) {
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("invalid_signature");
        }
        assertThat(count("SELECT count(*) FROM email_events WHERE message_id = ?", message))
                .isZero();
        assertThat(count("SELECT count(*) FROM email_webhook_receipts WHERE webhook_id = ?", id))
                .isZero();
    }

    @Test
    void aValidEventIsAppendedOnceEvenWhenRedeliveredAndSvixHeadersAndRotatedKeysWork() throws Exception {
        UUID message = queued("deliver-" + UUID.randomUUID() + "@customer.test");
        String body = event("email.delivered", message, new JsonObject());
        long now = Instant.now().getEpochSecond();
        String id = "msg_" + UUID.randomUUID();
        String both = signature(OTHER, id, now, body) + " " + signature(SECRET, id, now, body);
        HttpResponse<Buffer> first = post("svix-", id, now, both, body);
        assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(200);
        HttpResponse<Buffer> again = post("webhook-", id, now, signature(SECRET, id, now, body), body);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.bodyAsJsonObject().getBoolean("duplicate")).isTrue();
        assertThat(count("SELECT count(*) FROM email_events WHERE message_id = ? AND type = 'delivered'", message))
                .isEqualTo(1);
    }

    @Test
    void hardBouncesComplaintsAndUnsubscribesSuppressButASoftBounceDoesNot() throws Exception {
        long now = Instant.now().getEpochSecond();
        Map<String, JsonObject> cases = Map.of(
                "email.bounced", new JsonObject().put("bounce", new JsonObject().put("type", "Permanent")),
                "email.complained", new JsonObject(),
                "email.unsubscribed", new JsonObject());
        for (var c : cases.entrySet()) {
            String to = "suppress-" + UUID.randomUUID() + "@customer.test";
            UUID message = queued(to);
            String body = event(c.getKey(), message, c.getValue());
            String id = "msg_" + UUID.randomUUID();
            assertThat(post("webhook-", id, now, signature(SECRET, id, now, body), body)
                            .statusCode())
                    .isEqualTo(200);
            assertThat(count("SELECT count(*) FROM email_suppressions WHERE address = ?", to))
                    .as(c.getKey())
                    .isEqualTo(1);
        }
        String to = "soft-" + UUID.randomUUID() + "@customer.test";
        UUID message = queued(to);
        String body = event(
                "email.bounced", message, new JsonObject().put("bounce", new JsonObject().put("type", "Transient")));
        String id = "msg_" + UUID.randomUUID();
        assertThat(post("webhook-", id, now, signature(SECRET, id, now, body), body)
                        .statusCode())
                .isEqualTo(200);
        assertThat(count("SELECT count(*) FROM email_suppressions WHERE address = ?", to))
                .isZero();
        assertThat(count("SELECT count(*) FROM email_events WHERE message_id = ? AND type = 'bounced'", message))
                .isEqualTo(1);
    }

    @Test
    void withoutASecretTheRouteAnswers503() {
        try (TestServer unconfigured = TestServer.start()) {
            HttpResponse<Buffer> r = TestServer.await(unconfigured
                    .request(POST, "/webhooks/email")
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{}")));
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("webhook_not_configured");
        }
    }
}
