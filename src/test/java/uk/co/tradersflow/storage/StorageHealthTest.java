package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.support.LogCapture;

/** The kernel's "no space" errors, as the JDK reports them, become 507 with one WARN a minute. */
class StorageHealthTest {

    @Test
    void theJdksEnospcAndQuotaErrorsAreOutOfSpaceAndOtherIoErrorsAreNot() {
        assertThat(StorageHealth.isOutOfSpace(new IOException("No space left on device")))
                .isTrue();
        assertThat(StorageHealth.isOutOfSpace(
                        new RuntimeException(new FileSystemException("/data/files/a: No space left on device"))))
                .isTrue();
        assertThat(StorageHealth.isOutOfSpace(new IOException("Disk quota exceeded")))
                .isTrue();
        assertThat(StorageHealth.isOutOfSpace(new IOException("Input/output error")))
                .isFalse();
        assertThat(StorageHealth.isOutOfSpace(new IllegalStateException("No space left on device")))
                .as("not an I/O failure")
                .isFalse();
    }

    @Test
    void outOfSpaceIs507InsufficientStorageWarnedOncePerMinute() {
        MovableClock clock = new MovableClock();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        StorageHealth health = new StorageHealth(Optional.empty(), 1, null, clock, meters);
        try (LogCapture logs = new LogCapture()) {
            AppError error = health.outOfSpace(new IOException("No space left on device"));
            assertThat(error.code().status()).isEqualTo(507);
            assertThat(error.code().code()).isEqualTo("insufficient_storage");
            health.outOfSpace(new IOException("No space left on device"));
            clock.now = clock.now.plus(Duration.ofSeconds(59));
            health.outOfSpace(new IOException("No space left on device"));
            assertThat(logs.text().split("storage is full", -1)).hasSize(2);
            clock.now = clock.now.plus(Duration.ofSeconds(1));
            health.outOfSpace(new IOException("No space left on device"));
            assertThat(logs.text().split("storage is full", -1)).hasSize(3);
            assertThat(logs.text())
                    .contains("storage is full: 3 upload(s) refused")
                    .doesNotContain("\tat ");
        }
        assertThat(health.full()).isTrue();
        assertThat(meters.get("tradersflow.storage.full").gauge().value()).isEqualTo(1.0);
        health.stored();
        assertThat(health.full()).isFalse();
        assertThat(meters.get("tradersflow.storage.full").gauge().value()).isEqualTo(0.0);
    }

    private static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-12-06T08:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
