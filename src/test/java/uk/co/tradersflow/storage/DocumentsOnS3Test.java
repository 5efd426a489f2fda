package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.LocalS3;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * With TF_S3_BUCKET set, documents live in the bucket (so several instances share them): the
 * whole API works the same against a real S3-compatible server, the objects hold only
 * ciphertext under the account's prefix, and nothing is written to local disk.
 */
class DocumentsOnS3Test {

    @Test
    void uploadSignedDownloadRangeAndDeleteWorkAgainstAnS3Bucket() throws Exception {
        try (LocalS3 s3 = new LocalS3();
                TestServer server = TestServer.start(s3.settings())) {
            TestUser user = new TestUsers(server).create();
            byte[] pdf = SampleFiles.pdf(6 * 1024 * 1024 + 1234);
            HttpResponse<Buffer> uploaded = TestServer.await(server.request(POST, "/api/v1/documents", user.token())
                    .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                    .sendBuffer(new Multipart()
                            .file("file", "survey.pdf", "application/pdf", pdf)
                            .build()));
            assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(201);
            String id = uploaded.bodyAsJsonObject().getString("id");

            List<String> keys = s3.keys();
            assertThat(keys).hasSize(1);
            assertThat(keys.get(0)).matches(user.accountId() + "/[A-Za-z0-9_-]{32}");
            byte[] stored = s3.bytes(keys.get(0));
            assertThat(stored.length)
                    .as("a multipart upload of several parts")
                    .isEqualTo(ChunkedAead.sealedSize(pdf.length));
            // Whole header line, not "%PDF": any 4 bytes turn up by chance in 6 MiB of ciphertext about once in 700
            // runs.
            assertThat(new String(stored, StandardCharsets.ISO_8859_1))
                    .doesNotContain("Acacia")
                    .doesNotContain("%PDF-1.7\n");
            assertThat(Files.exists(server.config.storage().dir()))
                    .as("nothing on local disk")
                    .isFalse();

            URI url = URI.create(server.send(GET, "/api/v1/documents/" + id + "/url", user.token())
                    .bodyAsJsonObject()
                    .getString("url"));
            String path = url.getRawPath() + "?" + url.getRawQuery();
            HttpResponse<Buffer> whole =
                    TestServer.await(server.request(GET, path).send());
            assertThat(whole.statusCode()).isEqualTo(200);
            assertThat(whole.body().getBytes()).isEqualTo(pdf);
            HttpResponse<Buffer> range = TestServer.await(server.request(GET, path)
                    .putHeader("Range", "bytes=5000000-5100000")
                    .send());
            assertThat(range.statusCode()).isEqualTo(206);
            assertThat(range.body().getBytes()).isEqualTo(Arrays.copyOfRange(pdf, 5_000_000, 5_100_001));

            assertThat(server.send(DELETE, "/api/v1/documents/" + id, user.token())
                            .statusCode())
                    .isEqualTo(204);
            assertThat(s3.keys()).isEmpty();
            assertThat(TestServer.await(server.request(GET, path).send()).statusCode())
                    .isEqualTo(403);
        }
    }
}
