package uk.co.tradersflow.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectLockConfiguration;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Checkpoints as objects {@code audit-checkpoints/<key>.json} in the {@code TF_S3_BUCKET}
 * bucket, one object per checkpoint: shared by every instance, and with S3 Object Lock nobody,
 * the server's own credentials included, can delete or overwrite one before its retention ends.
 *
 * <p>Whether the bucket has Object Lock is asked once, at the first write. With a default
 * retention rule the bucket applies it to each object by itself; with Object Lock on but no
 * default rule each object is written with GOVERNANCE retention for {@link #RETENTION}; without
 * Object Lock (or on an S3-compatible server that does not implement the call) objects are
 * plain, and start-up says so once.
 */
final class S3AnchorSink implements AnchorSink {
    private static final Logger log = LoggerFactory.getLogger(S3AnchorSink.class);
    static final String PREFIX = "audit-checkpoints/";
    static final String SUFFIX = ".json";
    /** Longer than a year, so a yearly audit always finds the whole year's checkpoints locked. */
    static final Duration RETENTION = Duration.ofDays(400);

    enum Lock {
        NONE,
        BUCKET_DEFAULT,
        PER_OBJECT
    }

    private final S3Client s3;
    private final String bucket;
    private final Clock clock;
    private Lock lock;

    S3AnchorSink(S3Client s3, String bucket, Clock clock) {
        this.s3 = s3;
        this.bucket = bucket;
        this.clock = clock;
    }

    @Override
    public String describe() {
        return "s3://" + bucket + "/" + PREFIX;
    }

    /** How objects are locked in this bucket; asked once (writers on other worker threads wait for the answer). */
    synchronized Lock lock() {
        if (lock == null) {
            lock = detectLock();
        }
        return lock;
    }

    private Lock detectLock() {
        try {
            ObjectLockConfiguration config =
                    s3.getObjectLockConfiguration(b -> b.bucket(bucket)).objectLockConfiguration();
            if (config == null || config.objectLockEnabled() != ObjectLockEnabled.ENABLED) {
                return none("Object Lock is not enabled on the bucket");
            }
            if (config.rule() != null && config.rule().defaultRetention() != null) {
                log.info("audit checkpoints go to {} under the bucket's default Object Lock retention", describe());
                return Lock.BUCKET_DEFAULT;
            }
            log.info(
                    "audit checkpoints go to {} with GOVERNANCE Object Lock retention of {} days each",
                    describe(),
                    RETENTION.toDays());
            return Lock.PER_OBJECT;
        } catch (SdkException e) {
            // No configuration (ObjectLockConfigurationNotFoundError) or a server without the call.
            return none(e.getMessage());
        }
    }

    private Lock none(String why) {
        log.warn(
                "audit checkpoints go to {} without Object Lock ({}): enable Object Lock on the bucket so they cannot be deleted",
                describe(),
                why);
        return Lock.NONE;
    }

    @Override
    public void append(String key, String line) throws IOException {
        PutObjectRequest.Builder put = PutObjectRequest.builder()
                .bucket(bucket)
                .key(PREFIX + key + SUFFIX)
                .contentType("application/json");
        if (lock() == Lock.PER_OBJECT) {
            put.objectLockMode(ObjectLockMode.GOVERNANCE)
                    .objectLockRetainUntilDate(clock.instant().plus(RETENTION));
        }
        try {
            s3.putObject(put.build(), RequestBody.fromString(line, StandardCharsets.UTF_8));
        } catch (SdkException e) {
            throw new IOException("S3 write of audit checkpoint " + key + " failed", e);
        }
    }

    @Override
    public void readAll(Predicate<String> wanted, Consumer<Stored> each) throws IOException {
        try {
            for (S3Object object : s3.listObjectsV2Paginator(
                            b -> b.bucket(bucket).prefix(PREFIX))
                    .contents()) {
                String name = object.key();
                if (!name.endsWith(SUFFIX)) {
                    continue;
                }
                String key = name.substring(PREFIX.length(), name.length() - SUFFIX.length());
                if (!wanted.test(key)) {
                    continue;
                }
                String text = s3.getObjectAsBytes(b -> b.bucket(bucket).key(name))
                        .asString(StandardCharsets.UTF_8)
                        .strip();
                each.accept(new Stored("s3://" + bucket + "/" + name, text));
            }
        } catch (SdkException e) {
            throw new IOException("S3 read of the audit checkpoints failed", e);
        }
    }
}
