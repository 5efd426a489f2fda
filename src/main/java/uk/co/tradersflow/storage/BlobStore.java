package uk.co.tradersflow.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;

/**
 * Where sealed (already encrypted) file bytes live, under a prefix per account. Every method
 * blocks: call it on a worker thread. The contract fits both a local disk and an S3-style object
 * store: write once as a stream, read byte ranges, delete one blob or everything an account has.
 * Nothing here ever sees plaintext or keys.
 */
public interface BlobStore {
    /** A new blob, written as a stream. */
    Output create(BlobId id) throws IOException;

    /** A blob being written: complete and durable once {@code close()} returns; {@code abort()} discards it. */
    abstract class Output extends RunOutputStream {
        public abstract void abort() throws IOException;
    }

    /** Bytes {@code [offset, offset + length)} of a blob. */
    InputStream read(BlobId id, long offset, long length) throws IOException;

    /** Removes one blob; a blob already gone is not an error. */
    void delete(BlobId id) throws IOException;

    /** Removes every blob of the account (its whole folder or prefix); idempotent. */
    void deleteAccount(UUID accountId) throws IOException;
}
