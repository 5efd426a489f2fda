package uk.co.tradersflow.storage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * Whether the storage can take another upload. A write refused for lack of space (ENOSPC, or a
 * quota) marks it full: uploads then answer 507 {@code insufficient_storage} (nothing of them
 * is kept), readiness reports the {@code storage} check DOWN and the gauge
 * {@code tradersflow.storage.full} is 1. It is logged as one WARN a minute at most, however
 * many uploads hit it: a full disk under load must not also flood the log. It clears when an
 * upload is stored again or when readiness finds room for a largest upload on the local disk.
 */
public final class StorageHealth {
    private static final Logger log = LoggerFactory.getLogger(StorageHealth.class);
    static final Duration WARN_EVERY = Duration.ofMinutes(1);

    private final Optional<Path> localRoot;
    private final long roomNeeded;
    private final WorkerExecutor workers;
    private final Clock clock;
    private final Counter refused;
    private volatile boolean full;
    private final AtomicReference<Instant> lastWarning = new AtomicReference<>(Instant.MIN);
    private final AtomicLong unwarned = new AtomicLong();

    /**
     * @param localRoot the folder blobs are written under, when they are on this machine's disk
     * @param roomNeeded the free space that lets readiness clear a full mark (the upload limit)
     */
    public StorageHealth(
            Optional<Path> localRoot, long roomNeeded, WorkerExecutor workers, Clock clock, MeterRegistry meters) {
        this.localRoot = localRoot;
        this.roomNeeded = roomNeeded;
        this.workers = workers;
        this.clock = clock;
        Gauge.builder("tradersflow.storage.full", this, s -> s.full ? 1 : 0)
                .description("1 while uploads are refused because the storage has no space left")
                .register(meters);
        this.refused = Counter.builder("tradersflow.storage.full.refused")
                .description("uploads answered 507 insufficient_storage")
                .register(meters);
    }

    /** ENOSPC ("No space left on device") or EDQUOT anywhere in the failure's causes. */
    public static boolean isOutOfSpace(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (t instanceof IOException
                    && message != null
                    && (message.contains("No space left on device") || message.contains("Disk quota exceeded"))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Marks the storage full, logs (at most once a minute) and answers the problem the upload gets. */
    AppError outOfSpace(Throwable cause) {
        full = true;
        refused.increment();
        Instant now = clock.instant();
        Instant last = lastWarning.get();
        long missed = unwarned.incrementAndGet();
        if (!now.isBefore(last.plus(WARN_EVERY)) && lastWarning.compareAndSet(last, now)) {
            unwarned.addAndGet(-missed);
            log.warn(
                    "storage is full: {} upload(s) refused with 507 since the last warning; free space under {}: {}",
                    missed,
                    localRoot.map(Path::toString).orElse("the blob store"),
                    cause.getMessage());
        }
        return AppError.of(ErrorCode.INSUFFICIENT_STORAGE, "There is no room to store this file now; try again later");
    }

    /** An upload was stored: there is room again. */
    void stored() {
        full = false;
    }

    public boolean full() {
        return full;
    }

    /** Readiness: fails with {@code insufficient_storage} while full and the disk still lacks room for one largest upload. */
    public Future<Void> check() {
        if (!full) {
            return Future.succeededFuture();
        }
        if (localRoot.isEmpty()) {
            return Future.failedFuture(AppError.of(ErrorCode.INSUFFICIENT_STORAGE));
        }
        return workers.executeBlocking(() -> Files.getFileStore(localRoot.get()).getUsableSpace() >= roomNeeded, false)
                .compose(room -> {
                    if (room) {
                        log.info("storage has room again under {}", localRoot.get());
                        full = false;
                        return Future.succeededFuture();
                    }
                    return Future.failedFuture(AppError.of(ErrorCode.INSUFFICIENT_STORAGE));
                });
    }
}
