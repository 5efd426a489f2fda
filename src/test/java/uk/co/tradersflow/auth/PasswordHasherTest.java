package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** Argon2id as the server computes it, against the reference implementation, and what a hash costs the heap. */
class PasswordHasherTest {

    /** libargon2's own output (Debian's argon2 CLI), for the server's parameters: 19 MiB, t=2, p=1. */
    private static final String REFERENCE =
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$3sOlQyZQ3asEqhCko2TQGcIzwlkxeNQtuSu1sisMsMg";

    private static final String PASSWORD = "correct horse battery staple";

    @Test
    void theReferenceHashVerifiesEveryTimeOnAThreadThatReusesItsMemory() {
        // The second and third checks run on blocks the first returned to this thread's pool,
        // and the wrong password's between them leaves its own values in those blocks.
        assertThat(PasswordHasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        assertThat(PasswordHasher.verifyNow("correct horse battery stapler", REFERENCE))
                .isFalse();
        assertThat(PasswordHasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        assertThat(PasswordHasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
    }

    @Test
    void aHashingThreadKeepsItsNineteenMebibytesInsteadOfAllocatingThemForEachHash() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        PasswordHasher.verifyNow(PASSWORD, REFERENCE); // this thread's first hash fills its pool

        long before = threads.getThreadAllocatedBytes(thread);
        assertThat(PasswordHasher.verifyNow(PASSWORD, REFERENCE)).isTrue();
        long allocated = threads.getThreadAllocatedBytes(thread) - before;

        // Allocating the memory afresh is 19,456 blocks of 1 KiB and their headers: over 19 MiB.
        assertThat(allocated).isLessThan(2L * 1024 * 1024);
    }
}
