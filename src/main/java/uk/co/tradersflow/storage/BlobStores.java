package uk.co.tradersflow.storage;

import software.amazon.awssdk.services.s3.S3Client;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.platform.s3.S3Clients;

/** The blob store the settings ask for: an S3 bucket when {@code TF_S3_BUCKET} is set, local disk otherwise. */
public final class BlobStores {
    private BlobStores() {}

    public static BlobStore from(AppConfig.StorageSettings config) {
        return config.s3()
                .<BlobStore>map(s3 -> new S3BlobStore(s3Client(s3), s3.bucket()))
                .orElseGet(() -> new LocalDiskBlobStore(config.dir()));
    }

    static S3Client s3Client(AppConfig.S3Settings s3) {
        return S3Clients.create(s3);
    }
}
