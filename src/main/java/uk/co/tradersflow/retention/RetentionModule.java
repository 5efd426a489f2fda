package uk.co.tradersflow.retention;

import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.List;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.billing.StripeGateway;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;
import uk.co.tradersflow.storage.BlobStore;

/** Account retention: the job that erases closed accounts' data, files and subscription. */
public final class RetentionModule {
    private RetentionModule() {}

    public static Module create(
            Shared shared, BlobStore blobs, WorkerExecutor storageWorkers, StripeGateway stripe, AuditLog audit) {
        return new Module(
                List.of(),
                List.of(Module.Deployment.single(new AccountRetentionVerticle(
                        shared.db(), blobs, storageWorkers, stripe, audit, Duration.ofMinutes(5)))),
                List.of());
    }
}
