package uk.co.tradersflow.audit;

import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/** The audit log every capability appends to, and the verticle that seals its chain. */
public record AuditModule(AuditLog log, Module module) {
    public static AuditModule create(Shared shared) {
        AuditLog log = new AuditLog(shared.vertx().eventBus());
        return new AuditModule(
                log,
                new Module(
                        List.of(),
                        List.of(Module.Deployment.single(
                                new AuditSealerVerticle(shared.db(), Duration.ofMillis(500), shared.meters()))),
                        List.of()));
    }
}
