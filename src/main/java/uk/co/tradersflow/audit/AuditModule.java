package uk.co.tradersflow.audit;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.platform.crypto.Es256Jws;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;
import uk.co.tradersflow.platform.s3.S3Clients;

/**
 * The audit log every capability appends to, the verticle that seals its chain and anchors its
 * checkpoints, and the verification route (its {@link AuditChain} also the console's).
 */
public record AuditModule(AuditLog log, AuditChain chain, Module module) {
    public static AuditModule create(Shared shared) {
        AuditLog log = new AuditLog(shared.vertx().eventBus());
        AuditCheckpoints checkpoints = checkpoints(shared);
        AuditChain chain = new AuditChain(shared.db(), checkpoints);
        return new AuditModule(
                log,
                chain,
                new Module(
                        List.of(new AuditRoutes(chain)),
                        List.of(Module.Deployment.single(new AuditSealerVerticle(
                                shared.db(),
                                Duration.ofMillis(500),
                                shared.meters(),
                                checkpoints,
                                shared.config().audit().checkpointInterval()))),
                        List.of(new CheckpointAge(shared.db(), shared.clock(), shared.meters()))));
    }

    /** Signed with the access tokens' ES256 key; verified with it or a retired one (TF_JWT_PREVIOUS_KEYS). */
    static AuditCheckpoints checkpoints(Shared shared) {
        AppConfig.AuditSettings settings = shared.config().audit();
        String instance = instanceName();
        List<AnchorSink> sinks = new ArrayList<>();
        sinks.add(new DirectoryAnchorSink(settings.anchorDir(), instance, shared.clock()));
        settings.s3().ifPresent(s3 -> sinks.add(new S3AnchorSink(S3Clients.create(s3), s3.bucket(), shared.clock())));
        return new AuditCheckpoints(
                shared.vertx(),
                shared.db(),
                new Es256Jws(shared.keys().jwtKeyPair(), shared.keys().jwtPreviousKeys(), AuditCheckpoints.JWS_TYPE),
                sinks,
                instance,
                shared.clock());
    }

    /**
     * This host's name, as file names may carry it ({@code HOSTNAME}, else the JVM's view of it):
     * in a container, the pod or container name.
     */
    static String instanceName() {
        String name = Optional.ofNullable(System.getenv("HOSTNAME"))
                .filter(h -> !h.isBlank())
                .orElseGet(() -> {
                    try {
                        return InetAddress.getLocalHost().getHostName();
                    } catch (java.io.IOException e) {
                        return "server";
                    }
                });
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "server" : safe.substring(0, Math.min(safe.length(), 64));
    }
}
