package uk.co.tradersflow.audit;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import uk.co.tradersflow.platform.crypto.Es256Jws;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.support.TestServer;

/** Checkpoints of a test server's chain into a directory of the test's own, signed with that server's key. */
final class Anchors {
    private Anchors() {}

    static Es256Jws signer(TestServer server) {
        ServerKeys keys = ServerKeys.resolve(server.config);
        return new Es256Jws(keys.jwtKeyPair(), keys.jwtPreviousKeys(), AuditCheckpoints.JWS_TYPE);
    }

    static AuditCheckpoints into(TestServer server, Path dir, String instance) {
        return new AuditCheckpoints(
                server.vertx,
                server.main.db(),
                signer(server),
                List.of(new DirectoryAnchorSink(dir, instance, Clock.systemUTC())),
                instance,
                Clock.systemUTC());
    }

    static AuditChain chain(TestServer server, Path dir) {
        return new AuditChain(server.main.db(), into(server, dir, "test"));
    }
}
