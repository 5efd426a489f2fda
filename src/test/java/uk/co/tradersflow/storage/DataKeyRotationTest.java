package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Rotating TF_DATA_KEY: files stay readable while the old key is listed as previous, the
 * rotation job re-wraps every data key under the new one without rewriting a single file, and
 * afterwards the old key is no longer needed (nor able) to read them.
 */
class DataKeyRotationTest {
    final byte[] oldMaster = EnvelopeKeys.newDataKey();
    final byte[] newMaster = EnvelopeKeys.newDataKey();

    @Test
    void filesStayReadableThroughARotationAndTheOldKeyCanThenBeDestroyed() throws Exception {
        Path storage = Files.createTempDirectory("tf-rotation-files");
        byte[] pdf = SampleFiles.pdf(200_000);
        UUID account;
        UUID user;
        String email;
        String documentId;
        try (TestServer before = server(storage, oldMaster, List.of())) {
            TestUser u = new TestUsers(before).create();
            account = u.accountId();
            user = u.userId();
            email = u.email();
            HttpResponse<Buffer> r = TestServer.await(before.request(POST, "/api/v1/documents", u.token())
                    .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                    .sendBuffer(new Multipart()
                            .file("file", "quote.pdf", "application/pdf", pdf)
                            .build()));
            assertThat(r.statusCode()).isEqualTo(201);
            documentId = r.bodyAsJsonObject().getString("id");
        }
        Path blob;
        try (var files = Files.list(storage.resolve(account.toString()))) {
            blob = files.findFirst().orElseThrow();
        }
        byte[] sealedBefore = Files.readAllBytes(blob);
        assertThat(keyId(documentId)).isEqualTo(EnvelopeKeys.keyId(oldMaster));

        try (TestServer during = server(storage, newMaster, List.of(oldMaster))) {
            TestUser u = new TestUsers(during).newSession(account, user, email);
            assertThat(download(during, u, documentId))
                    .as("readable before re-wrapping")
                    .isEqualTo(pdf);
            DataKeyRotationVerticle rotation = new DataKeyRotationVerticle(
                    during.main.db(),
                    new EnvelopeKeys(newMaster, List.of(oldMaster)),
                    during.vertx.createSharedWorkerExecutor("test-rotation"),
                    Duration.ofHours(1));
            TestServer.await(during.vertx.deployVerticle(rotation));
            // The server's own rotation job starts a second after a deploy that names a previous
            // key: on a busy host it may re-wrap the file before this round does. Either way, after
            // a round the file is under the new key.
            TestServer.await(rotation.runOnce());
            assertThat(keyId(documentId)).isEqualTo(EnvelopeKeys.keyId(newMaster));
            assertThat(TestServer.await(rotation.runOnce()))
                    .as("nothing left under the old key")
                    .isZero();
        }
        assertThat(Files.readAllBytes(blob))
                .as("the file itself was not rewritten")
                .isEqualTo(sealedBefore);

        try (TestServer after = server(storage, newMaster, List.of())) {
            TestUser u = new TestUsers(after).newSession(account, user, email);
            assertThat(download(after, u, documentId))
                    .as("the old key is no longer needed")
                    .isEqualTo(pdf);
        }
        try (TestServer oldKeyOnly = server(storage, oldMaster, List.of())) {
            TestUser u = new TestUsers(oldKeyOnly).newSession(account, user, email);
            String url = signedUrl(oldKeyOnly, u, documentId);
            assertThat(fetch(oldKeyOnly, url).statusCode())
                    .as("nor able to read them")
                    .isEqualTo(500);
        }
    }

    private static TestServer server(Path storage, byte[] current, List<byte[]> previous) {
        Base64.Encoder b64 = Base64.getEncoder();
        return TestServer.start(Map.of(
                "TF_STORAGE_DIR",
                storage.toString(),
                "TF_DATA_KEY",
                b64.encodeToString(current),
                "TF_DATA_KEY_PREVIOUS",
                String.join(",", previous.stream().map(b64::encodeToString).toList())));
    }

    private static byte[] download(TestServer server, TestUser user, String documentId) {
        HttpResponse<Buffer> r = fetch(server, signedUrl(server, user, documentId));
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body().getBytes();
    }

    private static String signedUrl(TestServer server, TestUser user, String documentId) {
        return server.send(GET, "/api/v1/documents/" + documentId + "/url", user.token())
                .bodyAsJsonObject()
                .getString("url");
    }

    private static HttpResponse<Buffer> fetch(TestServer server, String url) {
        URI uri = URI.create(url);
        return TestServer.await(
                server.request(GET, uri.getRawPath() + "?" + uri.getRawQuery()).send());
    }

    private static String keyId(String documentId) throws Exception {
        return Sql.admin()
                .strings("SELECT key_id FROM documents WHERE id = ?", UUID.fromString(documentId))
                .get(0);
    }
}
