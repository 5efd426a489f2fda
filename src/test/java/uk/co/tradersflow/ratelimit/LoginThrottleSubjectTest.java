package uk.co.tradersflow.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The subjects' keys are the names of live counts and locks in Redis: a lockout under way must
 * hold across a deploy, so the keys stay the ones earlier releases wrote.
 */
class LoginThrottleSubjectTest {
    private static final UUID USER = UUID.fromString("00000000-0000-0000-0000-000000000001");
    private static final UUID DEVICE = UUID.fromString("00000000-0000-0000-0000-000000000002");
    private static final UUID SESSION = UUID.fromString("00000000-0000-0000-0000-000000000003");

    @Test
    void subjectsKeepTheKeysEarlierReleasesCountedUnder() {
        assertThat(LoginThrottle.Subject.user(USER).key()).isEqualTo("user:" + USER);
        assertThat(LoginThrottle.Subject.unknownAddress("sam@example.test").key())
                .isEqualTo("email:sam@example.test");
        assertThat(LoginThrottle.Subject.user(USER).onDevice(DEVICE).key())
                .isEqualTo("user:" + USER + "|device:" + DEVICE);
        assertThat(LoginThrottle.Subject.user(USER).inSession(SESSION).key())
                .isEqualTo("user:" + USER + "|session:" + SESSION);
    }

    @Test
    void aDeviceOrASessionCountsApartFromTheUser() {
        LoginThrottle.Subject user = LoginThrottle.Subject.user(USER);
        assertThat(user.onDevice(DEVICE)).isNotEqualTo(user);
        assertThat(user.inSession(SESSION)).isNotEqualTo(user).isNotEqualTo(user.onDevice(DEVICE));
    }
}
