package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.RawHttp;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/** The HTTPS listener's transport, headers, request ids and error answers, seen from outside. */
class HttpsPlatformTest {
    static TestServer server;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(
                    Map.of("TF_PUBLIC_URL", "https://app.tradersflow.test"))
            .then(s -> server = s)
            .then(s -> user = new TestUsers(s).create());

    private static SSLSocket handshake(String protocol, String... suites) throws Exception {
        SSLSocket socket = (SSLSocket) RawHttp.trustingAnyCertificate()
                .getSocketFactory()
                .createSocket("localhost", server.config.http().httpsPort());
        socket.setSoTimeout(5000);
        socket.setEnabledProtocols(new String[] {protocol});
        if (suites.length > 0) {
            socket.setEnabledCipherSuites(suites);
        }
        socket.startHandshake();
        return socket;
    }

    @Test
    void tls13AndTls12AreAcceptedWithAeadSuites() throws Exception {
        try (SSLSocket s = handshake("TLSv1.3")) {
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
        }
        try (SSLSocket s = handshake("TLSv1.2")) {
            assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
            assertThat(s.getSession().getCipherSuite()).matches(".*(GCM|CHACHA20_POLY1305).*");
        }
    }

    @Test
    void thisClientCouldOfferTls11SoARefusalIsTheServers() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        assertThat(context.getSupportedSSLParameters().getProtocols()).contains("TLSv1.1", "TLSv1");
        SSLSocket probe = (SSLSocket) context.getSocketFactory().createSocket();
        probe.setEnabledProtocols(new String[] {"TLSv1.1"});
        assertThat(probe.getEnabledProtocols()).containsExactly("TLSv1.1");
        probe.close();
    }

    @Test
    void tls11AndTls10AreRefused() {
        for (String old : List.of("TLSv1.1", "TLSv1")) {
            assertThatThrownBy(() -> handshake(old).close())
                    .as(old)
                    .isInstanceOf(IOException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .as("refused by the server, not by this client")
                            .doesNotContain("No appropriate protocol"));
        }
    }

    @Test
    void aNonAeadCbcSuiteIsRefused() {
        assertThatThrownBy(() -> handshake(
                                "TLSv1.2",
                                "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
                                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
                                "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
                                "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
                                "TLS_RSA_WITH_AES_128_CBC_SHA256",
                                "TLS_RSA_WITH_AES_128_CBC_SHA")
                        .close())
                .isInstanceOf(IOException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("No appropriate protocol"));
    }

    @Test
    void plainHttpRedirectsEveryPathWith308ToTheSamePathAndQueryOnThePublicHost() {
        for (String uri :
                List.of("/", "/api/v1/customers?limit=5&cursor=abc", "/.well-known/security.txt", "/metrics")) {
            HttpResponse<Buffer> r = TestServer.await(server.plainClient
                    .request(HttpMethod.GET, uri)
                    .putHeader("Host", "evil.example")
                    .send());
            assertThat(r.statusCode()).as(uri).isEqualTo(308);
            assertThat(r.getHeader("Location")).as(uri).isEqualTo("https://app.tradersflow.test" + uri);
            assertThat(r.getHeader("X-Request-Id")).isNotBlank();
        }
        HttpResponse<Buffer> post = TestServer.await(server.plainClient
                .request(HttpMethod.POST, "/api/v1/auth/login")
                .sendJsonObject(new JsonObject()));
        assertThat(post.statusCode()).isEqualTo(308);
    }

    @Test
    void plainHttpAnswersHealthProbesDirectly() {
        HttpResponse<Buffer> live =
                TestServer.await(server.plainClient.get("/health/live").send());
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.bodyAsJsonObject().getString("status")).isEqualTo("UP");
        HttpResponse<Buffer> ready =
                TestServer.await(server.plainClient.get("/health/ready").send());
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.bodyAsJsonObject().getJsonObject("checks").fieldNames())
                .contains("db", "redis");
        assertThat(ready.getHeader("Strict-Transport-Security"))
                .as("HSTS is for HTTPS answers")
                .isNull();
    }

    private static void assertSecurityHeaders(HttpResponse<Buffer> r, String what) {
        assertThat(r.getHeader("Strict-Transport-Security"))
                .as(what)
                .isEqualTo("max-age=63072000; includeSubDomains; preload");
        assertThat(r.getHeader("Content-Security-Policy"))
                .as(what)
                .contains("default-src 'none'")
                .contains("frame-ancestors 'none'");
        assertThat(r.getHeader("X-Content-Type-Options")).as(what).isEqualTo("nosniff");
        assertThat(r.getHeader("Referrer-Policy")).as(what).isEqualTo("no-referrer");
        assertThat(r.getHeader("X-Frame-Options")).as(what).isEqualTo("DENY");
        assertThat(r.getHeader("Permissions-Policy")).as(what).isNotBlank();
        assertThat(r.getHeader("X-Request-Id")).as(what).isNotBlank();
    }

    private static void assertProblem(HttpResponse<Buffer> r, int status, String code) {
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.getHeader("Content-Type")).startsWith("application/problem+json");
        JsonObject body = r.bodyAsJsonObject();
        assertThat(body.fieldNames()).contains("type", "title", "status", "detail", "code");
        assertThat(body.getInteger("status")).isEqualTo(status);
        assertThat(body.getString("code")).isEqualTo(code);
        assertNoInternals(r.bodyAsString());
    }

    static void assertNoInternals(String body) {
        assertThat(body)
                .doesNotContain(
                        "Exception",
                        "\tat ",
                        "at io.vertx",
                        "at uk.co",
                        "SELECT",
                        "INSERT",
                        "UPDATE ",
                        "relation",
                        "constraint",
                        "duplicate key",
                        "tf_app",
                        "postgres");
    }

    @Test
    void everyHttpsAnswerCarriesTheSecurityHeadersEvenErrors() {
        HttpResponse<Buffer> ok = server.send(HttpMethod.GET, "/api/v1/customers", user.token());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertSecurityHeaders(ok, "200 authenticated");
        assertThat(ok.getHeader("Cache-Control")).isEqualTo("no-store");

        HttpResponse<Buffer> notFound = TestServer.await(
                server.request(HttpMethod.GET, "/no/such/route").send());
        assertSecurityHeaders(notFound, "404");
        assertProblem(notFound, 404, "not_found");

        HttpResponse<Buffer> unauthorized = TestServer.await(
                server.request(HttpMethod.GET, "/api/v1/customers").send());
        assertSecurityHeaders(unauthorized, "401");
        assertProblem(unauthorized, 401, "unauthorized");
        assertThat(unauthorized.getHeader("Cache-Control")).isEqualTo("no-store");

        HttpResponse<Buffer> tooLarge =
                TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers", user.token())
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer(new byte[1024 * 1024 + 10])));
        assertSecurityHeaders(tooLarge, "413");
        assertProblem(tooLarge, 413, "payload_too_large");

        HttpResponse<Buffer> wrongType =
                TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers", user.token())
                        .putHeader("Content-Type", "text/plain")
                        .sendBuffer(Buffer.buffer("name=x")));
        assertSecurityHeaders(wrongType, "415");
        assertProblem(wrongType, 415, "unsupported_media_type");

        HttpResponse<Buffer> badJson =
                TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers", user.token())
                        .putHeader("Content-Type", "application/json")
                        .sendBuffer(Buffer.buffer("{\"name\": ")));
        assertSecurityHeaders(badJson, "400");
        assertProblem(badJson, 400, "malformed_json");
    }

    @Test
    void aBodyOverOneMebibyteIsRefusedEvenOnAnOpenRoute() {
        HttpResponse<Buffer> r = TestServer.await(server.request(HttpMethod.POST, "/api/v1/customers")
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(new byte[2 * 1024 * 1024])));
        assertThat(r.statusCode()).isIn(401, 413);
        assertThat(r.getHeader("Content-Type")).startsWith("application/problem+json");
    }

    @Test
    void aGeneratedRequestIdIsAddedAndASaneIncomingOneEchoed() {
        HttpResponse<Buffer> generated =
                TestServer.await(server.request(HttpMethod.GET, "/health/live").send());
        String id = generated.getHeader("X-Request-Id");
        assertThat(id).matches("[0-9a-f-]{36}");
        HttpResponse<Buffer> other =
                TestServer.await(server.request(HttpMethod.GET, "/health/live").send());
        assertThat(other.getHeader("X-Request-Id")).isNotEqualTo(id);

        HttpResponse<Buffer> echoed = TestServer.await(server.request(HttpMethod.GET, "/health/live")
                .putHeader("X-Request-Id", "lb-7f3a.21:abc_DEF-9")
                .send());
        assertThat(echoed.getHeader("X-Request-Id")).isEqualTo("lb-7f3a.21:abc_DEF-9");
    }

    @Test
    void anInsaneIncomingRequestIdIsReplaced() {
        for (String insane : List.of("x".repeat(65), "has space", "semi;colon", "<script>", "quote\"d")) {
            HttpResponse<Buffer> r = TestServer.await(server.request(HttpMethod.GET, "/no/such/route")
                    .putHeader("X-Request-Id", insane)
                    .send());
            assertThat(r.getHeader("X-Request-Id"))
                    .as(insane)
                    .isNotEqualTo(insane)
                    .matches("[0-9a-f-]{36}");
        }
    }

    @Test
    void aRequestIdWithALineBreakNeverSplitsTheResponse() throws Exception {
        // Vert.x's client refuses to send CR/LF in a header, so this goes over a raw TLS socket.
        try (SSLSocket s = handshake("TLSv1.3")) {
            s.getOutputStream()
                    .write(("GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: abc\rInjected: yes\r\n"
                                    + "Connection: close\r\n\r\n")
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String response = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(response).doesNotContainIgnoringCase("\r\nInjected: yes");
            assertThat(response.lines()
                            .filter(l -> l.toLowerCase().startsWith("x-request-id:"))
                            .toList())
                    .allSatisfy(l -> assertThat(l).doesNotContain("abc"));
        }
    }

    @Test
    void securityTxtFollowsRfc9116() {
        HttpResponse<Buffer> r = TestServer.await(
                server.request(HttpMethod.GET, "/.well-known/security.txt").send());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).startsWith("text/plain").contains("charset=utf-8");
        String text = r.bodyAsString();
        assertThat(text)
                .contains("Contact: mailto:security@tradersflow.co.uk")
                .contains("Policy: https://")
                .contains("Preferred-Languages: en");
        String expires = text.lines()
                .filter(l -> l.startsWith("Expires: "))
                .findFirst()
                .orElseThrow()
                .substring(9)
                .trim();
        Instant at = Instant.parse(expires);
        assertThat(at).isAfter(Instant.now()).isBefore(Instant.now().plus(365, ChronoUnit.DAYS));
        assertThat(text.lines().filter(l -> l.startsWith("Expires:")).count()).isEqualTo(1);
    }
}
