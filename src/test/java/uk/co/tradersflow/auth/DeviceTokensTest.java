package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A device token names one device of one user, for one password, for a limited time. */
class DeviceTokensTest {
    private static final byte[] KEY =
            "a server key of thirty-two bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final Instant NOW = Instant.parse("2026-11-25T09:00:00Z");
    private static final int EPOCH = 3;

    private static DeviceTokens at(Instant when) {
        return new DeviceTokens(KEY, Clock.fixed(when, ZoneOffset.UTC));
    }

    @Test
    void aTokenNamesItsDeviceForItsUserAndPasswordOnly() {
        UUID user = UUID.randomUUID();
        UUID device = UUID.randomUUID();
        String token = at(NOW).issue(user, device, EPOCH);
        assertThat(at(NOW).deviceOf(token, user, EPOCH)).hasValue(device);
        assertThat(at(NOW).deviceOf(token, UUID.randomUUID(), EPOCH))
                .as("another user")
                .isEmpty();
        assertThat(at(NOW).deviceOf(token, user, EPOCH + 1))
                .as("after a password change or reset")
                .isEmpty();
        assertThat(new DeviceTokens(
                                "another server key, thirty-two b".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                                Clock.fixed(NOW, ZoneOffset.UTC))
                        .deviceOf(token, user, EPOCH))
                .as("another key")
                .isEmpty();
    }

    @Test
    void aTokenExpiresAfterItsLife() {
        UUID user = UUID.randomUUID();
        String token = at(NOW).issue(user, UUID.randomUUID(), EPOCH);
        assertThat(at(NOW.plus(DeviceTokens.LIFE).minusSeconds(1)).deviceOf(token, user, EPOCH))
                .isPresent();
        assertThat(at(NOW.plus(DeviceTokens.LIFE)).deviceOf(token, user, EPOCH)).isEmpty();
    }

    @Test
    void anAlteredTokenIsRefused() {
        UUID user = UUID.randomUUID();
        String token = at(NOW).issue(user, UUID.randomUUID(), EPOCH);
        String body = token.substring(4, token.indexOf('.'));
        String later = java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString((user + "." + UUID.randomUUID() + "."
                                + NOW.plus(Duration.ofDays(365)).getEpochSecond())
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(at(NOW).deviceOf("tfd_" + later + token.substring(token.indexOf('.')), user, EPOCH))
                .as("a forged body")
                .isEmpty();
        assertThat(at(NOW).deviceOf("tfd_" + body + ".AAAA", user, EPOCH)).isEmpty();
        assertThat(at(NOW).deviceOf(token.substring(0, token.length() - 1), user, EPOCH))
                .isEmpty();
    }
}
