package uk.co.tradersflow.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A signed file URL holds only for its exact values, before expiry, at the current epoch. */
class SignedUrlsTest {
    static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    final SignedUrls urls = new SignedUrls(EnvelopeKeys.newDataKey(), Clock.fixed(NOW, ZoneOffset.UTC));
    final UUID doc = UUID.randomUUID();
    final UUID account = UUID.randomUUID();
    final Instant expires = NOW.plusSeconds(300);

    @Test
    void anUnalteredUrlIsValidUntilItExpires() {
        String sig = urls.signature(doc, account, expires, 3);
        assertThat(urls.valid(doc, account, expires, 3, sig)).isTrue();
        SignedUrls later = new SignedUrls(new byte[32], Clock.fixed(expires, ZoneOffset.UTC));
        assertThat(later.valid(doc, account, expires, 3, later.signature(doc, account, expires, 3)))
                .as("at expiry")
                .isFalse();
    }

    @Test
    void anyAlterationOrAnEpochBumpKillsIt() {
        String sig = urls.signature(doc, account, expires, 3);
        assertThat(urls.valid(UUID.randomUUID(), account, expires, 3, sig))
                .as("another document")
                .isFalse();
        assertThat(urls.valid(doc, UUID.randomUUID(), expires, 3, sig))
                .as("another account")
                .isFalse();
        assertThat(urls.valid(doc, account, expires.plusSeconds(3600), 3, sig))
                .as("a later expiry")
                .isFalse();
        assertThat(urls.valid(doc, account, expires, 4, sig))
                .as("after sign-out everywhere")
                .isFalse();
        char last = sig.charAt(sig.length() - 1);
        String flipped = sig.substring(0, sig.length() - 1) + (last == 'A' ? 'B' : 'A');
        assertThat(urls.valid(doc, account, expires, 3, flipped))
                .as("an altered signature")
                .isFalse();
        assertThat(urls.valid(doc, account, expires, 3, "not base64 !")).isFalse();
        assertThat(urls.valid(doc, account, expires, 3, null)).isFalse();
    }
}
