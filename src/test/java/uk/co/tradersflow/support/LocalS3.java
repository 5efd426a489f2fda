package uk.co.tradersflow.support;

import java.net.URI;
import java.util.Map;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3-compatible server (S3Proxy over jclouds' in-memory store) started in the test JVM on
 * a free port, with AWS signature v4 checked against its own access key, and one bucket.
 */
public final class LocalS3 implements AutoCloseable {
    public static final String ACCESS_KEY = "tf-test-access";
    public static final String SECRET_KEY = "tf-test-secret-key-0123456789";
    public static final String BUCKET = "tf-documents";

    private final BlobStoreContext context;
    private final S3Proxy proxy;

    public LocalS3() {
        try {
            context = ContextBuilder.newBuilder("transient")
                    .credentials("identity", "credential")
                    .build(BlobStoreContext.class);
            proxy = S3Proxy.builder()
                    .blobStore(context.getBlobStore())
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .ignoreUnknownHeaders(true)
                    .build();
            proxy.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            context.getBlobStore().createContainerInLocation(null, BUCKET);
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy did not start", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    /** The server's settings for documents on this bucket. */
    public Map<String, String> settings() {
        return Map.of(
                "TF_S3_BUCKET",
                BUCKET,
                "TF_S3_ENDPOINT",
                endpoint().toString(),
                "TF_S3_REGION",
                "eu-west-2",
                "TF_S3_ACCESS_KEY_ID",
                ACCESS_KEY,
                "TF_S3_SECRET_ACCESS_KEY",
                SECRET_KEY);
    }

    /** Object keys in the bucket, as the server sees them, for assertions. */
    public java.util.List<String> keys() {
        return context
                .getBlobStore()
                .list(BUCKET, org.jclouds.blobstore.options.ListContainerOptions.Builder.recursive())
                .stream()
                .map(org.jclouds.blobstore.domain.StorageMetadata::getName)
                .sorted()
                .toList();
    }

    /** An object's stored bytes, read behind the server's back. */
    public byte[] bytes(String key) throws java.io.IOException {
        try (java.io.InputStream in =
                context.getBlobStore().getBlob(BUCKET, key).getPayload().openStream()) {
            return in.readAllBytes();
        }
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        context.close();
    }
}
