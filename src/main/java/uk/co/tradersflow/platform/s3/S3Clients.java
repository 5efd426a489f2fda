package uk.co.tradersflow.platform.s3;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import uk.co.tradersflow.config.AppConfig;

/** The S3 client for {@code TF_S3_*}: documents (storage) and the audit chain's anchored checkpoints share it. */
public final class S3Clients {
    private S3Clients() {}

    /**
     * Checksums only where S3 requires them, and then Content-MD5 (the legacy plugin): the SDK's
     * newer default CRC checksums and their chunked encoding are refused by several S3-compatible
     * servers (S3Proxy, older MinIO and Ceph releases), and every chunk is authenticated by AES-GCM
     * anyway. Calls block: callers run them on worker threads.
     */
    public static S3Client create(AppConfig.S3Settings s3) {
        AwsCredentialsProvider credentials = s3.accessKeyId().isPresent()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        s3.accessKeyId().get(), s3.secretAccessKey().orElseThrow()))
                : DefaultCredentialsProvider.builder().build();
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(s3.region()))
                .credentialsProvider(credentials)
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(3))
                        .socketTimeout(Duration.ofSeconds(30)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .addPlugin(LegacyMd5Plugin.create());
        s3.endpoint().ifPresent(endpoint -> builder.endpointOverride(endpoint).forcePathStyle(true));
        return builder.build();
    }
}
