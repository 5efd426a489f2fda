package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.support.LocalS3;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * {@code GET /admin/api/audit/verify} on a server whose sealer anchors a checkpoint every second
 * to its directory and to an S3 bucket (S3Proxy), as owners and support see it.
 */
class AuditVerifyRouteTest {
    static final String OWNER = "owner-" + UUID.randomUUID() + "@tradersflow.test";
    static final String SUPPORT = "support-" + UUID.randomUUID() + "@tradersflow.test";

    static LocalS3 s3;
    static TestServer server;
    static TestUser owner;
    static TestUser support;
    static TestUser user;

    @RegisterExtension
    static final ServerExtension lifecycle = ServerExtension.with(() -> {
                s3 = new LocalS3();
                Map<String, String> settings = new HashMap<>(s3.settings());
                settings.put("TF_OWNER_EMAILS", OWNER);
                settings.put("TF_SUPPORT_EMAILS", SUPPORT);
                settings.put("TF_AUDIT_CHECKPOINT_SECONDS", "1");
                return settings;
            })
            .closing(() -> s3)
            .then(s -> {
                server = s;
                TestUsers users = new TestUsers(server);
                owner = users.create(OWNER, true);
                support = users.create(SUPPORT, true);
                user = users.create();
            });

    private static Path anchorDir() {
        return server.config.audit().anchorDir();
    }

    private static List<String> localLines() throws Exception {
        List<String> lines = new ArrayList<>();
        if (Files.isDirectory(anchorDir())) {
            try (var files = Files.list(anchorDir())) {
                for (Path f : files.sorted().toList()) {
                    lines.addAll(Files.readAllLines(f));
                }
            }
        }
        return lines;
    }

    private static List<String> bucketCheckpoints() {
        return s3.keys().stream().filter(k -> k.startsWith(S3AnchorSink.PREFIX)).toList();
    }

    private static void awaitCheckpoints(int atLeast) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        while (bucketCheckpoints().size() < atLeast || localLines().size() < atLeast) {
            assertThat(System.currentTimeMillis())
                    .as("%d checkpoints anchored in time", atLeast)
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static HttpResponse<Buffer> verify(String token) {
        return server.send(HttpMethod.GET, "/admin/api/audit/verify", token);
    }

    @Test
    void theSealerAnchorsACheckpointEachSecondToTheDirectoryAndTheBucket() throws Exception {
        awaitCheckpoints(2);
        JsonObject line = new JsonObject(localLines().get(0));
        assertThat(line.getString("key")).startsWith("at-");
        assertThat(line.getString("jws")).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
        String object = S3AnchorSink.PREFIX + line.getString("key") + S3AnchorSink.SUFFIX;
        assertThat(bucketCheckpoints()).contains(object);
        assertThat(new String(s3.bytes(object), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(localLines().get(0));
    }

    @Test
    void anOwnerGetsTheChainsVerdictHeldAgainstTheCheckpoints() throws Exception {
        // A refusal is an audit entry: the chain has at least one, which the next checkpoint signs.
        assertThat(verify(user.token()).statusCode()).isEqualTo(403);
        long deadline = System.currentTimeMillis() + 15_000;
        JsonObject body;
        do {
            Thread.sleep(200);
            HttpResponse<Buffer> r = verify(owner.token());
            assertThat(r.statusCode()).isEqualTo(200);
            body = r.bodyAsJsonObject();
            assertThat(System.currentTimeMillis())
                    .as("a checkpoint signs an entry in time")
                    .isLessThan(deadline);
        } while (body.getJsonObject("checkpoints").getJsonObject("newest") == null
                || body.getJsonObject("checkpoints").getJsonObject("newest").getLong("entries") == 0);
        assertThat(body.getBoolean("ok")).as(body.encode()).isTrue();
        assertThat(body.getLong("checked")).isPositive();
        assertThat(body.containsKey("firstBrokenId")).isTrue();
        assertThat(body.getValue("firstBrokenId")).isNull();
        assertThat(body.getValue("truncatedAfter")).isNull();
        assertThat(body.getValue("rewrittenBefore")).isNull();
        JsonObject checkpoints = body.getJsonObject("checkpoints");
        assertThat(checkpoints.getInteger("verified")).isPositive();
        assertThat(checkpoints.getInteger("forged")).isZero();
        assertThat(checkpoints.getJsonObject("newest").getLong("entryId")).isPositive();
    }

    @Test
    void supportMayReadTheVerdictToo() {
        assertThat(verify(support.token()).statusCode()).isEqualTo(200);
    }

    @Test
    void anyoneElseIsRefused() {
        assertThat(server.request(HttpMethod.GET, "/admin/api/audit/verify")
                        .send()
                        .toCompletionStage()
                        .toCompletableFuture()
                        .join()
                        .statusCode())
                .isEqualTo(401);
        HttpResponse<Buffer> r = verify(user.token());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.bodyAsJsonObject().getString("code")).isEqualTo("not_owner");
    }

    @Test
    void theBucketsCheckpointsCountWhenTheLocalFilesAreGone() throws Exception {
        awaitCheckpoints(4);
        int inBucket = bucketCheckpoints().size();
        try (var files = Files.list(anchorDir())) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        JsonObject body = verify(owner.token()).bodyAsJsonObject();
        assertThat(body.getBoolean("ok")).as(body.encode()).isTrue();
        assertThat(body.getJsonObject("checkpoints").getInteger("verified")).isGreaterThanOrEqualTo(inBucket);
    }

    @Test
    void aStoppingServerAnchorsACheckpointOfItsOwn() throws Exception {
        TestServer other = TestServer.start(Map.of("TF_AUDIT_CHECKPOINT_SECONDS", "3600"));
        Path dir = other.config.audit().anchorDir();
        other.close();
        List<String> lines = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                lines.addAll(Files.readAllLines(f));
            }
        }
        assertThat(lines).hasSize(1);
        assertThat(new JsonObject(lines.get(0)).getString("key")).startsWith("stop-");
    }
}
