package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;
import uk.co.tradersflow.support.TrustAllTls;

/**
 * Signed URLs and the file route: the right bytes and headers without a bearer token while the
 * URL holds; 403 once it expires, once any part of it is altered, and at once when the document
 * is deleted, the account suspended or its user signs out everywhere; and a file altered on disk
 * is never served as if it were whole.
 */
class SignedFileDownloadTest {
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    record Uploaded(TestUser user, String id, byte[] bytes) {}

    static Uploaded upload(TestUser user, String filename, byte[] bytes) {
        HttpResponse<Buffer> r = TestServer.await(server.request(POST, "/api/v1/documents", user.token())
                .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                .sendBuffer(new Multipart()
                        .file("file", filename, "application/octet-stream", bytes)
                        .build()));
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
        return new Uploaded(user, r.bodyAsJsonObject().getString("id"), bytes);
    }

    static JsonObject signedUrl(Uploaded doc) {
        HttpResponse<Buffer> r = server.send(
                GET, "/api/v1/documents/" + doc.id() + "/url", doc.user().token());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.bodyAsJsonObject();
    }

    /** The path and query of a signed URL, fetched with no Authorization header at all. */
    static HttpResponse<Buffer> fetch(String url, String... headers) {
        URI uri = URI.create(url);
        var request = server.request(GET, uri.getRawPath() + "?" + uri.getRawQuery());
        for (int i = 0; i < headers.length; i += 2) {
            request.putHeader(headers[i], headers[i + 1]);
        }
        return TestServer.await(request.send());
    }

    static Path blobOf(Uploaded doc) throws Exception {
        try (Stream<Path> files = Files.list(
                server.config.storage().dir().resolve(doc.user().accountId().toString()))) {
            List<Path> all = files.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    @Test
    void aSignedUrlServesTheExactBytesWithSafeHeadersAndNoToken() {
        Uploaded doc = upload(users.create(), "Quote for Mrs Patel.pdf", SampleFiles.pdf(200_000));
        JsonObject signed = signedUrl(doc);
        assertThat(signed.getString("url"))
                .startsWith(server.config.links().publicUrl() + "/files/"
                        + doc.user().accountId() + "/" + doc.id() + "?");
        Instant expiresAt = Instant.parse(signed.getString("expiresAt"));
        assertThat(expiresAt)
                .isBetween(Instant.now().plusSeconds(290), Instant.now().plusSeconds(301));

        HttpResponse<Buffer> r;
        String url = signed.getString("url");
        try (LogCapture logs = new LogCapture()) {
            r = fetch(url);
            fetch(url.replace("sig=", "sig=x"));
            assertThat(logs.text())
                    .as("a signed URL is a bearer secret: never logged")
                    .doesNotContain(url.substring(url.indexOf("sig=") + 4))
                    .doesNotContain("expires=");
        }
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body().getBytes()).isEqualTo(doc.bytes());
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/pdf");
        assertThat(r.getHeader("Content-Disposition"))
                .isEqualTo(
                        "attachment; filename=\"Quote for Mrs Patel.pdf\"; filename*=UTF-8''Quote%20for%20Mrs%20Patel.pdf");
        assertThat(r.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.getHeader("Cache-Control")).isEqualTo("private, no-store");
        assertThat(r.getHeader("Accept-Ranges")).isEqualTo("bytes");
        assertThat(r.getHeader("Content-Security-Policy")).contains("default-src 'none'");
    }

    @Test
    void rangeRequestsServeExactlyTheAskedBytes() {
        Uploaded doc = upload(users.create(), "photo.jpg", SampleFiles.jpeg(300_000));
        String url = signedUrl(doc).getString("url");
        byte[] all = doc.bytes();

        HttpResponse<Buffer> middle = fetch(url, "Range", "bytes=65530-131080");
        assertThat(middle.statusCode()).isEqualTo(206);
        assertThat(middle.getHeader("Content-Range")).isEqualTo("bytes 65530-131080/" + all.length);
        assertThat(middle.body().getBytes()).isEqualTo(Arrays.copyOfRange(all, 65530, 131081));

        HttpResponse<Buffer> tail = fetch(url, "Range", "bytes=-100");
        assertThat(tail.body().getBytes()).isEqualTo(Arrays.copyOfRange(all, all.length - 100, all.length));
        HttpResponse<Buffer> open = fetch(url, "Range", "bytes=299990-");
        assertThat(open.body().getBytes()).isEqualTo(Arrays.copyOfRange(all, 299_990, all.length));

        HttpResponse<Buffer> beyond = fetch(url, "Range", "bytes=300000-");
        assertThat(beyond.statusCode()).isEqualTo(416);
        assertThat(beyond.getHeader("Content-Range")).isEqualTo("bytes */" + all.length);
        assertThat(fetch(url, "Range", "bytes=0-1,5-9").statusCode())
                .as("several ranges: the whole file")
                .isEqualTo(200);
    }

    @Test
    void anyAlteredPartOfTheUrlIsRefusedWithTheSame403() {
        Uploaded doc = upload(users.create(), "a.png", SampleFiles.png(1000));
        String url = signedUrl(doc).getString("url");
        URI uri = URI.create(url);
        String query = uri.getRawQuery();
        String sig = query.substring(query.indexOf("sig=") + 4);
        String expires = query.replaceAll(".*expires=(\\d+).*", "$1");
        List<String> altered = List.of(
                url.replace(doc.id(), UUID.randomUUID().toString()),
                url.replace(doc.user().accountId().toString(), UUID.randomUUID().toString()),
                url.replace("expires=" + expires, "expires=" + (Long.parseLong(expires) + 3600)),
                url.replace("&v=0", "&v=1"),
                url.replace("sig=" + sig, "sig=" + (sig.charAt(0) == 'A' ? 'B' : 'A') + sig.substring(1)),
                url.replace("sig=" + sig, "sig=" + sig.substring(0, sig.length() - 1)),
                url.replace("sig=" + sig, "sig="),
                url.substring(0, url.indexOf('?')));
        for (String bad : altered) {
            HttpResponse<Buffer> r = fetch(bad);
            assertThat(r.statusCode()).as(bad).isEqualTo(403);
            assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("signed_url_invalid");
        }
        assertThat(fetch(url).statusCode()).as("the original still works").isEqualTo(200);
    }

    /** A validly signed URL for account A, with B's document id put in, reaches nothing of B's. */
    @Test
    void aUrlSignedForOneAccountNeverReachesAnotherAccountsFile() throws Exception {
        Uploaded a = upload(users.create(), "a.pdf", SampleFiles.pdf(800));
        Uploaded b = upload(users.create(), "b.pdf", SampleFiles.pdf(900));
        SignedUrls signer = new SignedUrls(ServerKeys.resolve(server.config).urlSigningKey(), Clock.systemUTC());
        Instant expires = Instant.now().plusSeconds(120);
        UUID bDoc = UUID.fromString(b.id());
        // Even with the server's own key (an attacker never has it): A's account and B's document.
        String forged = "/files/" + a.user().accountId() + "/" + bDoc + "?expires=" + expires.getEpochSecond()
                + "&v=0&sig=" + signer.signature(bDoc, a.user().accountId(), expires, 0);
        assertThat(fetch(server.config.links().publicUrl() + forged).statusCode())
                .isEqualTo(403);
    }

    @Test
    void anExpiredUrlIsRefusedEvenWithAValidSignature() throws Exception {
        Uploaded doc = upload(users.create(), "old.pdf", SampleFiles.pdf(500));
        SignedUrls signer = new SignedUrls(ServerKeys.resolve(server.config).urlSigningKey(), Clock.systemUTC());
        UUID id = UUID.fromString(doc.id());
        UUID account = doc.user().accountId();
        Instant past = Instant.now().minusSeconds(1);
        String expired = server.config.links().publicUrl() + "/files/" + account + "/" + id + "?expires="
                + past.getEpochSecond() + "&v=0&sig=" + signer.signature(id, account, past, 0);
        assertThat(fetch(expired).statusCode()).isEqualTo(403);
        Instant future = Instant.now().plusSeconds(60);
        String fresh = server.config.links().publicUrl() + "/files/" + account + "/" + id + "?expires="
                + future.getEpochSecond() + "&v=0&sig=" + signer.signature(id, account, future, 0);
        assertThat(fetch(fresh).statusCode())
                .as("the same key and values, not expired")
                .isEqualTo(200);
    }

    @Test
    void deletingTheDocumentKillsItsOutstandingUrlAtOnce() {
        Uploaded doc = upload(users.create(), "x.webp", SampleFiles.webp(5000));
        String url = signedUrl(doc).getString("url");
        assertThat(fetch(url).statusCode()).isEqualTo(200);
        assertThat(server.send(
                                io.vertx.core.http.HttpMethod.DELETE,
                                "/api/v1/documents/" + doc.id(),
                                doc.user().token())
                        .statusCode())
                .isEqualTo(204);
        assertThat(fetch(url).statusCode()).isEqualTo(403);
    }

    @Test
    void signingOutEverywhereKillsEveryOutstandingUrlOfTheAccount() {
        TestUser user = users.create();
        Uploaded doc = upload(user, "x.heic", SampleFiles.heic(5000));
        String url = signedUrl(doc).getString("url");
        assertThat(fetch(url).statusCode()).isEqualTo(200);
        assertThat(server.send(POST, "/api/v1/auth/logout-all", user.token()).statusCode())
                .isEqualTo(204);
        assertThat(fetch(url).statusCode()).isEqualTo(403);
        TestUser again = users.newSession(user.accountId(), user.userId(), user.email());
        String fresh = server.send(GET, "/api/v1/documents/" + doc.id() + "/url", again.token())
                .bodyAsJsonObject()
                .getString("url");
        assertThat(fresh).contains("&v=1&");
        assertThat(fetch(fresh).statusCode())
                .as("a URL minted after signing in again works")
                .isEqualTo(200);
    }

    @Test
    void suspendingTheAccountKillsItsUrlsAndReinstatingDoesNotRestoreThem() {
        TestUser user = users.create();
        Uploaded doc = upload(user, "x.png", SampleFiles.png(5000));
        String url = signedUrl(doc).getString("url");
        users.setAccountStatus(user.accountId(), "suspended");
        assertThat(fetch(url).statusCode()).isEqualTo(403);
        users.setAccountStatus(user.accountId(), "active");
        // Suspension ends the account's sessions, and with them the URLs handed out in them.
        assertThat(fetch(url).statusCode()).isEqualTo(403);
        assertThat(fetch(signedUrl(doc).getString("url")).statusCode()).isEqualTo(200);
    }

    /**
     * A client that leaves part-way: the server stops reading the file and closes it, once the part
     * being read on a worker is done (never under that read), so no file stays open behind it. The
     * storage workers are held busy as the client leaves, so a part is still being read then.
     */
    @Test
    void aClientThatLeavesMidDownloadLeavesNoFileOpen() throws Exception {
        Uploaded doc = upload(users.create(), "left.jpg", SampleFiles.jpeg(64 * ChunkedAead.CHUNK));
        Path blob = blobOf(doc).toRealPath();
        URI uri = URI.create(signedUrl(doc).getString("url"));
        HttpClient http = server.vertx.createHttpClient(
                TrustAllTls.webClient(server.config.http().httpsPort()));
        WorkerExecutor storage = server.vertx.createSharedWorkerExecutor(StorageModule.WORKER_POOL);
        try {
            Promise<Void> left = Promise.promise();
            http.request(new RequestOptions().setURI(uri.getRawPath() + "?" + uri.getRawQuery()))
                    .compose(HttpClientRequest::send)
                    .onFailure(left::tryFail)
                    .onSuccess(response -> response.handler(firstPiece -> {
                        response.handler(null);
                        hold(storage, 300);
                        response.request().connection().close().onComplete(v -> left.tryComplete());
                    }));
            TestServer.await(left.future());
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (openFiles().contains(blob) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(openFiles())
                    .as("the blob is closed once the client has gone")
                    .doesNotContain(blob);
        } finally {
            TestServer.await(storage.close());
            TestServer.await(http.close());
        }
    }

    /** Occupies every thread of the storage workers' pool for {@code millis}. */
    private static void hold(WorkerExecutor storage, long millis) {
        for (int i = 0; i < StorageModule.WORKER_THREADS; i++) {
            storage.executeBlocking(
                    () -> {
                        Thread.sleep(millis);
                        return null;
                    },
                    false);
        }
    }

    /** The files this JVM (the server's, in the tests) holds open. */
    private static List<Path> openFiles() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                        try {
                            return Files.readSymbolicLink(fd);
                        } catch (Exception gone) {
                            return fd;
                        }
                    })
                    .toList();
        }
    }

    @Test
    void aFlippedBitOnDiskFailsTheDownloadInsteadOfServingAlteredBytes() throws Exception {
        Uploaded small = upload(users.create(), "small.pdf", SampleFiles.pdf(3000));
        flipBit(blobOf(small), 100);
        try (LogCapture logs = new LogCapture()) {
            HttpResponse<Buffer> r = fetch(signedUrl(small).getString("url"));
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.bodyAsString()).doesNotContain("%PDF").doesNotContain("Acacia");
            assertThat(logs.text()).contains("failed authentication");
        }

        Uploaded large = upload(users.create(), "large.jpg", SampleFiles.jpeg(5 * ChunkedAead.CHUNK));
        flipBit(blobOf(large), ChunkedAead.HEADER + 3 * ChunkedAead.SEALED_CHUNK + 10);
        String url = signedUrl(large).getString("url");
        assertThat(fetchOrBreak(url))
                .as("the transfer is cut short, never completed with altered bytes")
                .isNotEqualTo(large.bytes());
        HttpResponse<Buffer> firstChunk = fetch(url, "Range", "bytes=0-1000");
        assertThat(firstChunk.body().getBytes())
                .as("untouched chunks still read")
                .isEqualTo(Arrays.copyOf(large.bytes(), 1001));
    }

    @Test
    void aTruncatedFileFailsTheDownload() throws Exception {
        Uploaded doc = upload(users.create(), "t.png", SampleFiles.png(3 * ChunkedAead.CHUNK));
        Path blob = blobOf(doc);
        try (RandomAccessFile file = new RandomAccessFile(blob.toFile(), "rw")) {
            file.setLength(ChunkedAead.HEADER + 2L * ChunkedAead.SEALED_CHUNK);
        }
        String url = signedUrl(doc).getString("url");
        assertThat(fetchOrBreak(url)).isNotEqualTo(doc.bytes());
        HttpResponse<Buffer> tail = fetch(url, "Range", "bytes=-10");
        assertThat(tail.statusCode()).isEqualTo(500);
    }

    /** The body as received, or null when the server broke the connection off mid-transfer. */
    private static byte[] fetchOrBreak(String url) {
        try {
            HttpResponse<Buffer> r = fetch(url);
            return r.statusCode() == 200 ? r.body().getBytes() : null;
        } catch (RuntimeException broken) {
            return null;
        }
    }

    private static void flipBit(Path file, long position) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(position);
            int b = f.read();
            f.seek(position);
            f.write(b ^ 0x04);
        }
    }
}
