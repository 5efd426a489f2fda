package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.auth.AccessTokens;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * HTTP/2 (ALPN h2, as curl and browsers negotiate it) gives the same answers as HTTP/1.1,
 * refusals of an upload included: each arrives as a whole response, not a stream reset, and the
 * connection keeps serving other streams.
 */
class DocumentsOverHttp2Test {
    static final long LIMIT = 3_000_000;
    static TestServer server;
    static HttpClient h2;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(Map.of("TF_UPLOAD_MAX_BYTES", Long.toString(LIMIT)))
            .then(s -> {
                server = s;
                // The client's ALPN set-up loads BouncyCastle once (half a second cold); here, not on an event loop.
                io.netty.handler.ssl.util.BouncyCastleUtil.isBcProvAvailable();
                io.netty.handler.ssl.util.BouncyCastleUtil.getBcProviderJce();
                h2 = server.vertx.createHttpClient(new HttpClientOptions()
                        .setProtocolVersion(HttpVersion.HTTP_2)
                        .setUseAlpn(true)
                        .setSsl(true)
                        .setTrustAll(true)
                        .setVerifyHost(false)
                        .setDefaultHost("localhost")
                        .setDefaultPort(server.config.http().httpsPort()));
                user = new TestUsers(server).create();
            });

    @AfterAll
    static void stop() {
        TestServer.await(h2.close());
    }

    record Answer(int status, HttpVersion version, io.vertx.core.MultiMap headers, Buffer body) {
        JsonObject json() {
            return body.toJsonObject();
        }
    }

    /** Sends over h2 and collects the response; the request body goes out in pieces, as a real upload does. */
    static Answer send(HttpMethod method, String path, Map<String, String> headers, Buffer body) {
        Future<Answer> answer = h2.request(
                        new RequestOptions().setMethod(method).setURI(path))
                .compose(request -> {
                    headers.forEach(request::putHeader);
                    Future<HttpClientResponse> response = request.response();
                    if (body == null) {
                        request.end();
                    } else {
                        request.setChunked(true);
                        writeInPieces(request, body, 0);
                    }
                    return response.compose(
                            r -> r.body().map(b -> new Answer(r.statusCode(), r.version(), r.headers(), b)));
                });
        return TestServer.await(answer);
    }

    private static void writeInPieces(HttpClientRequest request, Buffer body, int from) {
        if (from >= body.length()) {
            request.end().onFailure(e -> {}); // the server may reset the stream once it has answered
            return;
        }
        int to = Math.min(body.length(), from + 16 * 1024);
        request.write(body.slice(from, to)).onComplete(ar -> {
            if (ar.succeeded()) {
                writeInPieces(request, body, to);
            }
        });
    }

    static Map<String, String> upload(String token) {
        return token == null
                ? Map.of("Content-Type", Multipart.CONTENT_TYPE)
                : Map.of("Content-Type", Multipart.CONTENT_TYPE, "Authorization", "Bearer " + token);
    }

    static void assertProblem(Answer answer, int status, String code) {
        assertThat(answer.version()).isEqualTo(HttpVersion.HTTP_2);
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(status);
        assertThat(answer.headers().get("Content-Type")).isEqualTo("application/problem+json");
        assertThat(answer.headers().contains("Connection"))
                .as("no connection-specific header on h2")
                .isFalse();
        assertThat(answer.json().getString("code")).isEqualTo(code);
    }

    @Test
    void anUploadOverHttp2IsStoredAndDownloadsWhole() throws Exception {
        byte[] pdf = SampleFiles.pdf(2_900_000); // a large download: many DATA frames and window updates
        Answer created = send(
                HttpMethod.POST,
                "/api/v1/documents",
                upload(user.token()),
                new Multipart().file("file", "h2.pdf", "application/pdf", pdf).build());
        assertThat(created.version()).isEqualTo(HttpVersion.HTTP_2);
        assertThat(created.status()).as(created.body().toString()).isEqualTo(201);

        Answer url = send(
                HttpMethod.GET,
                "/api/v1/documents/" + created.json().getString("id") + "/url",
                Map.of("Authorization", "Bearer " + user.token()),
                null);
        URI signed = URI.create(url.json().getString("url"));
        Answer download = send(HttpMethod.GET, signed.getRawPath() + "?" + signed.getRawQuery(), Map.of(), null);
        assertThat(download.status()).isEqualTo(200);
        assertThat(MessageDigest.getInstance("SHA-256").digest(download.body().getBytes()))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(pdf));
    }

    @Test
    void anUploadWithoutATokenIsAnswered401() {
        assertProblem(uploadSmallPdf(null), 401, "unauthorized");
    }

    @Test
    void anUploadWithAnExpiredTokenIsAnswered401() {
        ServerKeys keys = ServerKeys.resolve(server.config);
        String expired = new AccessTokens(
                        keys, Duration.ofSeconds(60), Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)))
                .mint(user.userId(), user.accountId(), user.sessionId(), Optional.empty());
        Answer answer = uploadSmallPdf(expired);
        assertThat(answer.status()).as(answer.body().toString()).isEqualTo(401);
        assertThat(answer.headers().contains("Connection")).isFalse();
    }

    @Test
    void anOversizedUploadIsAnswered413MidStream() {
        assertProblem(
                send(
                        HttpMethod.POST,
                        "/api/v1/documents",
                        upload(user.token()),
                        new Multipart()
                                .file("file", "big.pdf", "application/pdf", SampleFiles.pdf((int) LIMIT + 200_000))
                                .build()),
                413,
                "payload_too_large");
    }

    @Test
    void anUploadThatIsNotMultipartIsAnswered415() {
        assertProblem(
                send(
                        HttpMethod.POST,
                        "/api/v1/documents",
                        Map.of("Content-Type", "application/pdf", "Authorization", "Bearer " + user.token()),
                        Buffer.buffer(SampleFiles.pdf(150_000))),
                415,
                "unsupported_media_type");
    }

    @Test
    void afterARefusedUploadTheSameConnectionServesTheNextRequest() {
        uploadSmallPdf(null);
        Answer next =
                send(HttpMethod.GET, "/api/v1/documents", Map.of("Authorization", "Bearer " + user.token()), null);
        assertThat(next.status()).isEqualTo(200);
    }

    @Test
    void headOverHttp2IsAnsweredWithHeadersAndNoBody() {
        Answer live = send(HttpMethod.HEAD, "/health/live", Map.of(), null);
        assertThat(live.version()).isEqualTo(HttpVersion.HTTP_2);
        assertThat(live.status()).isEqualTo(200);
        assertThat(live.body().length()).isZero();

        Answer refused = send(HttpMethod.HEAD, "/api/v1/documents", Map.of(), null);
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.body().length()).isZero();
    }

    /** A 200 kB PDF uploaded with {@code token} as the bearer (none when null). */
    private static Answer uploadSmallPdf(String token) {
        return send(
                HttpMethod.POST,
                "/api/v1/documents",
                upload(token),
                new Multipart()
                        .file("file", "a.pdf", "application/pdf", SampleFiles.pdf(200_000))
                        .build());
    }
}
