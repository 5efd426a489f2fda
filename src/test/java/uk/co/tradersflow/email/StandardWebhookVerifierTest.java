package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The exact tolerance edges, on a fixed clock: 300 s either way is accepted, 301 s is not. */
class StandardWebhookVerifierTest {
    static final String SECRET = "whsec_"
            + Base64.getEncoder().encodeToString("edge-case-key-for-the-verifier!!".getBytes(StandardCharsets.UTF_8));
    static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");
    final StandardWebhookVerifier verifier = new StandardWebhookVerifier(SECRET, Clock.fixed(NOW, ZoneOffset.UTC));

    private boolean verifyAt(long offsetSeconds) {
        String ts = Long.toString(NOW.getEpochSecond() + offsetSeconds);
        byte[] body = "{\"type\":\"email.sent\"}".getBytes(StandardCharsets.UTF_8);
        String sig = "v1," + Base64.getEncoder().encodeToString(verifier.sign("msg_1", ts, body));
        return verifier.verify("msg_1", ts, sig, body);
    }

    @Test
    void toleranceIsThreeHundredSecondsInBothDirections() {
        assertThat(verifyAt(0)).isTrue();
        assertThat(verifyAt(-300)).isTrue();
        assertThat(verifyAt(300)).isTrue();
        assertThat(verifyAt(-301)).isFalse();
        assertThat(verifyAt(301)).isFalse();
    }

    @Test
    void garbageHeadersAreRefusedNotThrown() {
        byte[] body = new byte[0];
        assertThat(verifier.verify("msg_1", "not-a-number", "v1,abc", body)).isFalse();
        assertThat(verifier.verify("msg_1", Long.toString(NOW.getEpochSecond()), "v1,***not base64***", body))
                .isFalse();
        assertThat(verifier.verify("msg_1", Long.toString(NOW.getEpochSecond()), "v2,c2lnbmF0dXJl", body))
                .isFalse();
        assertThat(verifier.verify(null, null, null, body)).isFalse();
        for (long extreme : new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 31_556_889_864_403_200L}) {
            assertThat(verifier.verify("msg_1", Long.toString(extreme), "v1,c2lnbmF0dXJl", body))
                    .as("timestamp " + extreme)
                    .isFalse();
        }
    }

    @Test
    void aSignatureAlteredOnlyInBase64sUnusedBitsIsRefused() {
        String ts = Long.toString(NOW.getEpochSecond());
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        String good = Base64.getEncoder().encodeToString(verifier.sign("msg_1", ts, body));
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        // 32 bytes = 42 full characters + 4 bits: the 43rd character's lowest bits carry nothing.
        char c = good.charAt(42);
        String altered = good.substring(0, 42) + alphabet.charAt(alphabet.indexOf(c) ^ 1) + good.substring(43);
        assertThat(Base64.getDecoder().decode(altered))
                .as("a lenient decoder cannot tell them apart")
                .isEqualTo(Base64.getDecoder().decode(good));
        assertThat(verifier.verify("msg_1", ts, "v1," + good, body)).isTrue();
        assertThat(verifier.verify("msg_1", ts, "v1," + altered, body)).isFalse();
    }
}
