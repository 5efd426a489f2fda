package uk.co.tradersflow.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.co.tradersflow.platform.crypto.Pem;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * A server run with known values for every secret it can use, some given directly and some
 * through {@code TF_<NAME>_FILE}, driven through its failure paths (bad tokens, bad signatures,
 * bad bodies, an unreachable Stripe and mail server, wrong metrics token): none of those values,
 * in any of the encodings a careless log line would use, shows in the log, in any response
 * (body or headers), or in {@code /metrics}.
 */
class SecretsStayOutOfOutputTest {
    @TempDir
    Path dir;

    private final Map<String, String> secrets = new LinkedHashMap<>();
    private final List<HttpResponse<Buffer>> responses = new ArrayList<>();

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** A 32-byte key given as base64; its raw bytes are watched for in base64, base64url and hex. */
    private String key(String name) {
        byte[] key = random(32);
        secrets.put(
                name + " (base64url)", Base64.getUrlEncoder().withoutPadding().encodeToString(key));
        secrets.put(name + " (hex)", HexFormat.of().formatHex(key));
        String b64 = Base64.getEncoder().encodeToString(key);
        secrets.put(name, b64);
        return b64;
    }

    private String secret(String name, String value) {
        secrets.put(name, value);
        return value;
    }

    /** A PEM key kept in a 0600 file; every base64 line of its body is watched for. */
    private String pemFile(String name) throws IOException {
        String pem = Pem.privateKeyPem(Pem.generateP256().getPrivate());
        pem.lines()
                .filter(l -> !l.startsWith("-----") && l.length() >= 16)
                .forEach(l -> secrets.put(name + " line", l));
        Path f = dir.resolve(name);
        Files.writeString(f, pem, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f.toString();
    }

    private Path file(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private HttpResponse<Buffer> keep(HttpResponse<Buffer> r) {
        responses.add(r);
        return r;
    }

    @Test
    void noSecretReachesTheLogsAnErrorResponseOrMetrics() throws Exception {
        String tag = UUID.randomUUID().toString().replace("-", "");
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("TF_JWT_PRIVATE_KEY_FILE", pemFile("jwt-key"));
        settings.put("TF_JWT_PREVIOUS_KEYS_FILE", pemFile("jwt-previous"));
        settings.put("TF_DATA_KEY_FILE", file("data-key", key("TF_DATA_KEY")).toString());
        settings.put("TF_DATA_KEY_PREVIOUS", key("TF_DATA_KEY_PREVIOUS"));
        settings.put("TF_URL_SIGNING_KEY", key("TF_URL_SIGNING_KEY"));
        settings.put(
                "TF_STRIPE_SECRET_KEY_FILE",
                file("stripe", secret("TF_STRIPE_SECRET_KEY", "sk_test_leak" + tag))
                        .toString());
        // Nothing listens there: checkout fails as a dependency failure, the path most likely to print a key.
        settings.put("TF_STRIPE_API_BASE", "http://127.0.0.1:" + TestServer.freePort());
        settings.put("TF_STRIPE_PRICE_ID", "price_leakcheck");
        settings.put("TF_STRIPE_WEBHOOK_SECRET", secret("TF_STRIPE_WEBHOOK_SECRET", "whsec_stripe" + tag));
        settings.put(
                "TF_EMAIL_WEBHOOK_SECRET_FILE",
                file(
                                "email-webhook",
                                secret(
                                        "TF_EMAIL_WEBHOOK_SECRET",
                                        "whsec_" + Base64.getEncoder().encodeToString(random(24))))
                        .toString());
        // No mail server on this port: the verification mail's sends fail, with the login configured.
        settings.put("TF_SMTP_PORT", Integer.toString(TestServer.freePort()));
        settings.put("TF_SMTP_USER", "mailer");
        settings.put(
                "TF_SMTP_PASSWORD_FILE",
                file("smtp", secret("TF_SMTP_PASSWORD", "smtp-pass-" + tag)).toString());
        settings.put("TF_METRICS_TOKEN", secret("TF_METRICS_TOKEN", "metrics-" + tag));

        String metrics;
        String logs;
        try (LogCapture capture = new LogCapture();
                TestServer server = TestServer.start(settings)) {
            secret("database password", server.env.appPassword);
            TestUser u = new TestUsers(server).create();
            String email = "leak-" + tag + "@example.test";
            keep(TestServer.await(server.request(HttpMethod.POST, "/api/v1/auth/signup")
                    .sendJsonObject(new JsonObject()
                            .put("email", email)
                            .put("password", "Correct horse battery staple 7")
                            .put("businessName", "Leak Ltd"))));
            keep(TestServer.await(server.request(HttpMethod.POST, "/api/v1/auth/login")
                    .sendJsonObject(new JsonObject().put("email", email).put("password", "wrong password entirely"))));
            keep(TestServer.await(server.request(HttpMethod.GET, "/api/v1/customers")
                    .putHeader("Authorization", "Bearer garbage")
                    .send()));
            keep(server.send(HttpMethod.GET, "/api/v1/customers", u.token() + "A"));
            keep(TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers", u.token())
                    .putHeader("Content-Type", "application/json")
                    .sendBuffer(Buffer.buffer("{\"name\": "))));
            keep(server.send(HttpMethod.POST, "/api/v1/billing/checkout-session", u.token()));
            keep(TestServer.await(server.request(HttpMethod.POST, "/webhooks/stripe")
                    .putHeader("Stripe-Signature", "t=" + System.currentTimeMillis() / 1000 + ",v1=" + "0".repeat(64))
                    .sendJsonObject(new JsonObject().put("id", "evt_leak").put("type", "invoice.paid"))));
            keep(TestServer.await(server.request(HttpMethod.POST, "/webhooks/email")
                    .putHeader("webhook-id", "msg_leak")
                    .putHeader("webhook-timestamp", Long.toString(System.currentTimeMillis() / 1000))
                    .putHeader("webhook-signature", "v1," + Base64.getEncoder().encodeToString(random(32)))
                    .sendJsonObject(new JsonObject().put("type", "email.bounced"))));
            keep(TestServer.await(server.request(HttpMethod.GET, "/metrics")
                    .bearerTokenAuthentication("wrong-token")
                    .send()));
            HttpResponse<Buffer> scraped = keep(TestServer.await(server.request(HttpMethod.GET, "/metrics")
                    .bearerTokenAuthentication(secrets.get("TF_METRICS_TOKEN"))
                    .send()));
            assertThat(scraped.statusCode()).isEqualTo(200);
            // The failed sends of the verification mail are logged asynchronously: give them time to happen.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!capture.text().contains("mailer")
                    && !capture.text().toLowerCase().contains("smtp")
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            metrics = scraped.bodyAsString();
            logs = capture.text();
        }

        assertThat(responses.stream().map(HttpResponse::statusCode).toList())
                .as("the failure paths were exercised")
                .contains(401, 400)
                .anyMatch(s -> s >= 500);
        assertThat(logs).as("the run logged its failures").isNotBlank();
        secrets.forEach((name, value) -> {
            assertThat(logs).as("log output holds " + name).doesNotContain(value);
            assertThat(metrics).as("/metrics holds " + name).doesNotContain(value);
            for (HttpResponse<Buffer> r : responses) {
                assertThat(r.bodyAsString() == null ? "" : r.bodyAsString())
                        .as("a response body holds " + name)
                        .doesNotContain(value);
                assertThat(r.headers().toString())
                        .as("a response header holds " + name)
                        .doesNotContain(value);
            }
        });
    }
}
