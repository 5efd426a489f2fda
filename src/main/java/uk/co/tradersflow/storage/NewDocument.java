package uk.co.tradersflow.storage;

import java.util.Optional;
import java.util.UUID;

/**
 * A file whose bytes are durable in the blob store, to be recorded as a document; {@code dataKey}
 * is its plain data key, which only leaves memory wrapped.
 */
record NewDocument(
        UUID id,
        Optional<UUID> jobId,
        String filename,
        FileType type,
        long size,
        long storedSize,
        BlobId blob,
        byte[] dataKey) {}
