package uk.co.tradersflow.storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Blobs as objects {@code <accountId>/<name>} in one private bucket, so any number of instances
 * share them. Calls block (the SDK's synchronous client): storage workers only.
 *
 * <p>A blob is written as a multipart upload of {@value #PART_SIZE}-byte parts (S3's minimum
 * part size; one part's buffer is the memory an upload holds here), or as one PUT when it is
 * smaller than a part. The object appears only when {@code close()} completes the upload, so
 * readers never see a partial object; a failed upload is aborted. Deleting an account lists its
 * prefix and deletes in batches of 1,000, the S3 maximum.
 */
public final class S3BlobStore implements BlobStore {
    static final int PART_SIZE = 5 * 1024 * 1024;
    /** Where a blob's buffer starts: most photos and documents are far smaller than a part. */
    private static final int FIRST_BUFFER = 64 * 1024;

    private static final int DELETE_BATCH = 1000;
    /** The content type the SDK's byte-array bodies carry; blobs are sealed bytes, never typed. */
    private static final String OCTET_STREAM = "application/octet-stream";

    private final S3Client s3;
    private final String bucket;

    public S3BlobStore(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    static String key(BlobId id) {
        return id.accountId() + "/" + id.name();
    }

    @Override
    public Output create(BlobId id) {
        return new MultipartOutputStream(key(id));
    }

    @Override
    public InputStream read(BlobId id, long offset, long length) throws IOException {
        try {
            return s3.getObject(
                    b -> b.bucket(bucket).key(key(id)).range("bytes=" + offset + "-" + (offset + length - 1)));
        } catch (NoSuchKeyException e) {
            throw new java.nio.file.NoSuchFileException(key(id));
        } catch (SdkException e) {
            throw new IOException("S3 read of " + key(id) + " failed", e);
        }
    }

    @Override
    public void delete(BlobId id) throws IOException {
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key(id)));
        } catch (SdkException e) {
            throw new IOException("S3 delete of " + key(id) + " failed", e);
        }
    }

    @Override
    public void deleteAccount(UUID accountId) throws IOException {
        try {
            ListObjectsV2Request list = ListObjectsV2Request.builder()
                    .bucket(bucket)
                    .prefix(accountId + "/")
                    .build();
            List<ObjectIdentifier> batch = new ArrayList<>();
            for (S3Object object : s3.listObjectsV2Paginator(list).contents()) {
                batch.add(ObjectIdentifier.builder().key(object.key()).build());
                if (batch.size() == DELETE_BATCH) {
                    deleteAll(batch);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                deleteAll(batch);
            }
        } catch (SdkException e) {
            throw new IOException("S3 delete of the objects of account " + accountId + " failed", e);
        }
    }

    private void deleteAll(List<ObjectIdentifier> keys) throws IOException {
        var response = s3.deleteObjects(b -> b.bucket(bucket)
                .delete(Delete.builder().objects(keys).quiet(true).build()));
        if (response.hasErrors() && !response.errors().isEmpty()) {
            throw new IOException("S3 refused to delete " + response.errors().size() + " object(s), first: "
                    + response.errors().get(0).key() + " "
                    + response.errors().get(0).code());
        }
    }

    /**
     * Buffers one part; sends full parts as it goes and completes (or aborts) on close. The one
     * part buffer grows to at most {@value #PART_SIZE} bytes (small blobs stay small) and is reused
     * for every part: the SDK reads it in place, and the synchronous client is done with it by the
     * time {@code uploadPart} returns.
     */
    private final class MultipartOutputStream extends Output {
        private final String key;
        private final List<CompletedPart> parts = new ArrayList<>();
        private byte[] part = new byte[FIRST_BUFFER];
        private int filled;
        private String uploadId;
        private boolean closed;

        MultipartOutputStream(String key) {
            this.key = key;
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            while (length > 0) {
                int n = Math.min(length, PART_SIZE - filled);
                makeRoom(filled + n);
                System.arraycopy(bytes, offset, part, filled, n);
                filled += n;
                offset += n;
                length -= n;
                if (filled == PART_SIZE) {
                    sendPart();
                }
            }
        }

        private void makeRoom(int needed) {
            if (needed > part.length) {
                part = Arrays.copyOf(part, Math.min(PART_SIZE, Math.max(needed, 2 * part.length)));
            }
        }

        /** The buffered bytes, read in place: each (re)try of the request reads them afresh. */
        private RequestBody buffered() {
            byte[] bytes = part;
            int length = filled;
            return RequestBody.fromContentProvider(
                    () -> new ByteArrayInputStream(bytes, 0, length), length, OCTET_STREAM);
        }

        private void sendPart() throws IOException {
            try {
                if (uploadId == null) {
                    uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key))
                            .uploadId();
                }
                int number = parts.size() + 1;
                RequestBody body = buffered();
                filled = 0;
                String etag = s3.uploadPart(
                                b -> b.bucket(bucket)
                                        .key(key)
                                        .uploadId(uploadId)
                                        .partNumber(number),
                                body)
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            } catch (SdkException e) {
                abort();
                throw new IOException("S3 upload of " + key + " failed", e);
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (uploadId == null) {
                    s3.putObject(b -> b.bucket(bucket).key(key), buffered());
                    return;
                }
                if (filled > 0) {
                    sendPart();
                }
                s3.completeMultipartUpload(
                        b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            } catch (SdkException e) {
                abort();
                throw new IOException("S3 upload of " + key + " failed", e);
            }
        }

        @Override
        public void abort() {
            closed = true;
            if (uploadId != null) {
                try {
                    s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
                } catch (SdkException ignored) {
                    // A bucket lifecycle rule (AbortIncompleteMultipartUpload) removes it later.
                }
            }
        }
    }
}
