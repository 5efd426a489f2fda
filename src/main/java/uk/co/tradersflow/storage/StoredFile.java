package uk.co.tradersflow.storage;

import io.vertx.sqlclient.Row;
import java.util.UUID;

/** What the file route needs to serve one document: where its bytes are and how to open them. */
record StoredFile(
        UUID documentId,
        String filename,
        FileType type,
        long size,
        long storedSize,
        BlobId blob,
        String keyId,
        byte[] wrappedKey,
        String accountStatus,
        int fileUrlEpoch) {

    static StoredFile from(UUID accountId, Row r) {
        return new StoredFile(
                r.getUUID("id"),
                r.getString("filename"),
                FileType.fromContentType(r.getString("content_type")).orElseThrow(),
                r.getLong("size_bytes"),
                r.getLong("stored_bytes"),
                new BlobId(accountId, r.getString("blob_name")),
                r.getString("key_id"),
                r.getBuffer("wrapped_key").getBytes(),
                r.getString("status"),
                r.getInteger("file_url_epoch"));
    }
}
