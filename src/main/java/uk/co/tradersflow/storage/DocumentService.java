package uk.co.tradersflow.storage;

import io.vertx.core.WorkerExecutor;
import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.db.Db;

/**
 * What the document routes share: the database, the blob store and the worker pool that does
 * all of storage's blocking work (encryption, file I/O), the master key, the audit log and the
 * upload limit, and whether the storage has room.
 */
public final class DocumentService {
  private final Db db;
  private final DocumentRepository repository = new DocumentRepository();
  private final BlobStore blobs;
  private final WorkerExecutor workers;
  private final EnvelopeKeys keys;
  private final AuditLog audit;
  private final long maxBytes;
  private final StorageHealth health;

  public DocumentService(Db db, BlobStore blobs, WorkerExecutor workers, EnvelopeKeys keys, AuditLog audit, long maxBytes,
                         StorageHealth health) {
    this.health = health;
    this.db = db;
    this.blobs = blobs;
    this.workers = workers;
    this.keys = keys;
    this.audit = audit;
    this.maxBytes = maxBytes;
  }

  Db db() {
    return db;
  }

  DocumentRepository repository() {
    return repository;
  }

  BlobStore blobs() {
    return blobs;
  }

  WorkerExecutor workers() {
    return workers;
  }

  EnvelopeKeys keys() {
    return keys;
  }

  AuditLog audit() {
    return audit;
  }

  StorageHealth health() {
    return health;
  }

  long maxBytes() {
    return maxBytes;
  }

  /** The one answer for a file over the limit, whether its declared length or its bytes say so. */
  AppError tooLarge() {
    return AppError.of(ErrorCode.PAYLOAD_TOO_LARGE, "Files may be at most " + maxBytes + " bytes");
  }
}
