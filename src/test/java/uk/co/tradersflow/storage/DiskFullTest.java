package uk.co.tradersflow.storage;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.health.HealthRoutes;
import uk.co.tradersflow.support.LogCapture;
import uk.co.tradersflow.support.Multipart;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.Sql;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Uploads onto a really full disk: a 1 MiB tmpfs (mounting one needs root, which CI has), so the
 * failure is the kernel's own ENOSPC, not a simulation of it.
 */
class DiskFullTest {
    static final int LIMIT = 256 * 1024;
    static Path mount;
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                mount = Files.createTempDirectory("tf-full-disk");
                Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.toString())
                        .redirectErrorStream(true)
                        .start();
                String output = new String(p.getInputStream().readAllBytes());
                assumeTrue(p.waitFor() == 0, "a 1 MiB tmpfs can be mounted (needs root): " + output);
                return Map.of("TF_STORAGE_DIR", mount.toString(), "TF_UPLOAD_MAX_BYTES", Integer.toString(LIMIT));
            })
            .closing(() -> mount == null ? null : DiskFullTest::unmount)
            .then(s -> server = s);

    /** After the server has closed: nothing holds a file on the tmpfs any more. */
    private static void unmount() throws Exception {
        new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
        Files.deleteIfExists(mount);
    }

    @Test
    void aFullDiskAnswers507KeepsNothingWarnsOnceAndShowsInReadinessAndMetricsUntilThereIsRoom() throws Exception {
        TestUser user = new TestUsers(server).create();
        Path filler = mount.resolve("filler");
        Files.write(filler, new byte[1024 * 1024 - 96 * 1024]);
        try (LogCapture logs = new LogCapture()) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<Buffer> r = upload(user);
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(507);
                assertThat(r.getHeader("Content-Type")).isEqualTo("application/problem+json");
                assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("insufficient_storage");
            }
            Thread.sleep(300); // the aborted blobs are removed after the answer
            assertThat(storedFiles(user)).as("nothing half-stored").isEmpty();
            assertThat(documents(user)).isZero();
            String text = logs.text();
            assertThat(text.split("storage is full", -1))
                    .as("one WARN a minute, however many uploads: " + text)
                    .hasSize(2);
            assertThat(text)
                    .contains("WARN uk.co.tradersflow.storage.StorageHealth - storage is full")
                    .doesNotContain("ERROR", "\tat ");
        }

        Thread.sleep(HealthRoutes.READINESS_REUSE.toMillis() + 100); // past an answer a call may reuse
        HttpResponse<Buffer> ready =
                TestServer.await(server.request(GET, "/health/ready").send());
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.bodyAsJsonObject().getJsonObject("checks").getJsonObject("storage"))
                .isEqualTo(new JsonObject().put("status", "DOWN").put("error", "insufficient_storage"));
        assertThat(metrics())
                .contains("tradersflow_storage_full 1.0")
                .contains("tradersflow_storage_full_refused_total 3.0");

        Files.delete(filler);
        Thread.sleep(HealthRoutes.READINESS_REUSE.toMillis() + 100);
        ready = TestServer.await(server.request(GET, "/health/ready").send());
        assertThat(ready.statusCode()).as(ready.bodyAsString()).isEqualTo(200);
        assertThat(ready.bodyAsJsonObject()
                        .getJsonObject("checks")
                        .getJsonObject("storage")
                        .getString("status"))
                .isEqualTo("UP");
        assertThat(metrics()).contains("tradersflow_storage_full 0.0");
        assertThat(upload(user).statusCode()).isEqualTo(201);
    }

    private static HttpResponse<Buffer> upload(TestUser user) {
        return TestServer.await(server.request(POST, "/api/v1/documents", user.token())
                .putHeader("Content-Type", Multipart.CONTENT_TYPE)
                .sendBuffer(new Multipart()
                        .file("file", "photo.jpg", "image/jpeg", SampleFiles.jpeg(200 * 1024))
                        .build()));
    }

    private static String metrics() {
        return TestServer.await(server.request(GET, "/metrics").send()).bodyAsString();
    }

    private static List<Path> storedFiles(TestUser user) throws Exception {
        Path folder = mount.resolve(user.accountId().toString());
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.toList();
        }
    }

    private static long documents(TestUser user) throws Exception {
        return Sql.admin().count("SELECT count(*) FROM documents WHERE account_id = ?", user.accountId());
    }
}
