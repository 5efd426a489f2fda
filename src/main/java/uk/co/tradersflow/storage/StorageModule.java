package uk.co.tradersflow.storage;

import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.platform.module.Module;
import uk.co.tradersflow.platform.module.Shared;

/**
 * Documents: the blob store and storage's worker pool (retention deletes files through them),
 * the document routes, the sweeper of orphaned blobs, data-key rotation, and the readiness check.
 */
public record StorageModule(BlobStore blobs, WorkerExecutor workers, Supplier<Future<?>> readiness, Module module) {
    /** The storage workers' pool, shared by name: uploads' sealing, downloads' parts, file I/O. */
    static final String WORKER_POOL = "tf-storage";

    static final int WORKER_THREADS = 2 * Runtime.getRuntime().availableProcessors();

    public static StorageModule create(Shared shared, AuditLog audit) {
        var config = shared.config().storage();
        var db = shared.db();
        // Storage's blocking work (AES-GCM over every chunk, file I/O) gets its own pool, so large
        // uploads and downloads queue among themselves instead of starving other blocking work.
        WorkerExecutor workers =
                shared.vertx().createSharedWorkerExecutor(WORKER_POOL, WORKER_THREADS, 60, TimeUnit.SECONDS);
        BlobStore blobs = BlobStores.from(config);
        EnvelopeKeys envelopeKeys = new EnvelopeKeys(shared.keys().dataKey(), config.previousDataKeys());
        StorageHealth health = new StorageHealth(
                config.s3().isPresent() ? Optional.empty() : Optional.of(config.dir()),
                config.uploadMaxBytes(),
                workers,
                shared.clock(),
                shared.meters());
        DocumentService documents = new DocumentService(
                db,
                blobs,
                workers,
                envelopeKeys,
                audit,
                config.uploadMaxBytes(),
                health,
                new DocumentLinks(
                        new SignedUrls(shared.keys().urlSigningKey(), shared.clock()),
                        config.signedUrlTtl(),
                        config.publicUrl(),
                        shared.clock()));
        return new StorageModule(
                blobs,
                workers,
                health::check,
                new Module(
                        List.of(new DocumentRoutes(documents, shared.clients())),
                        List.of(
                                Module.Deployment.single(
                                        new StorageSweeperVerticle(db, blobs, workers, Duration.ofMinutes(1))),
                                Module.Deployment.single(new DataKeyRotationVerticle(
                                        db, envelopeKeys, workers, Duration.ofMinutes(10)))),
                        List.of()));
    }
}
