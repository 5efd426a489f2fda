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
  static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString("edge-case-key-for-the-verifier!!".getBytes(StandardCharsets.UTF_8));
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
    assertThat(verifier.verify("msg_1", Long.toString(NOW.getEpochSecond()), "v1,***not base64***", body)).isFalse();
    assertThat(verifier.verify("msg_1", Long.toString(NOW.getEpochSecond()), "v2,c2lnbmF0dXJl", body)).isFalse();
    assertThat(verifier.verify(null, null, null, body)).isFalse();
  }
}
