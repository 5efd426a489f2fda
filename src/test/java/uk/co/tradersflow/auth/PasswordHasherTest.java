package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Argon2id as the server computes it, against the reference implementation, and what a hash costs the heap. */
class PasswordHasherTest {

    /** libargon2's own output (Debian's argon2 CLI), for the server's parameters: 19 MiB, t=2, p=1. */
    private static final String REFERENCE =
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$3sOlQyZQ3asEqhCko2TQGcIzwlkxeNQtuSu1sisMsMg";

    private static final String PASSWORD = "correct horse battery staple";

    private static Vertx vertx;
    private static PasswordHasher hasher;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        hasher = new PasswordHasher(vertx, 2);
    }

    @AfterAll
    static void stop() {
        vertx.close().await();
    }

    @Test
    void theReferenceHashVerifiesEveryTimeOnMemoryThatEarlierHashesUsed() {
        // Every check after the first runs on blocks an earlier one returned, and the wrong
        // password's check between them leaves its own values in those blocks.
        assertThat(hasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        assertThat(hasher.verifyNow("correct horse battery stapler", REFERENCE)).isFalse();
        assertThat(hasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        assertThat(hasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
    }

    @Test
    void hashesOnBothHashingThreadsAtOnceVerifyAndKeepVerifying() {
        for (int round = 0; round < 3; round++) {
            var right = hasher.verify(PASSWORD, Optional.of(REFERENCE));
            var wrong = hasher.verify("not it", Optional.of(REFERENCE));
            var fresh = hasher.hash(PASSWORD).compose(phc -> hasher.verify(PASSWORD, Optional.of(phc)));
            assertThat(right.await()).isTrue();
            assertThat(wrong.await()).isFalse();
            assertThat(fresh.await()).isTrue();
        }
    }

    /** The security page: passwords are stored only as salted hashes. */
    @Test
    void twoHashesOfOnePasswordHaveSaltsAndHashesOfTheirOwnAndEachVerifies() {
        String first = hasher.hash(PASSWORD).await();
        String second = hasher.hash(PASSWORD).await();
        String[] a = first.split("\\$");
        String[] b = second.split("\\$");
        assertThat(a[4]).as("salt").isNotEqualTo(b[4]).hasSize(22); // 16 bytes, base64 without padding
        assertThat(a[5]).as("hash").isNotEqualTo(b[5]);
        assertThat(first).doesNotContain(PASSWORD);
        assertThat(hasher.verify(PASSWORD, Optional.of(first)).await()).isTrue();
        assertThat(hasher.verify(PASSWORD, Optional.of(second)).await()).isTrue();
    }

    @Test
    void aHashAllocatesNoneOfItsNineteenMebibytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();

        long before = threads.getThreadAllocatedBytes(thread);
        assertThat(hasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        long allocated = threads.getThreadAllocatedBytes(thread) - before;

        // Memory allocated for the hash alone is 19,456 blocks of 1 KiB and their headers: over 19 MiB.
        assertThat(allocated).isLessThan(2L * 1024 * 1024);
    }

    @Test
    void aHashBeyondTheHashingThreadsAllocatesItsOwnMemoryAndStillVerifies() {
        assertThat(PasswordHasher.verifyNow(PASSWORD, REFERENCE, null)).isTrue();
    }
}
