package uk.co.tradersflow.platform.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.redis.client.impl.ZModem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Keys one script uses together are in one cluster slot; on a single Redis they keep their names. */
class RedisKeysTest {
    private static final List<String> SUBJECTS = List.of(
            "user:6f1c2d3e-0000-4000-8000-000000000001",
            "user:6f1c2d3e-0000-4000-8000-000000000001|device:6f1c2d3e-0000-4000-8000-000000000002",
            "email:odd{brace}s@example.test",
            "email:}{@example.test");

    @Test
    void aTagsKeysShareOneSlotOnAClusterWhateverTheTagHolds() {
        RedisKeys keys = new RedisKeys("tf:", true);
        for (String subject : SUBJECTS) {
            List<String> together = List.of(
                    keys.tagged(subject, "login", "fail"),
                    keys.tagged(subject, "login", "lock"),
                    keys.tagged(subject, "login", "lockouts"));
            assertThat(together.stream().map(ZModem::generate).distinct())
                    .as("%s", together)
                    .hasSize(1);
        }
        assertThat(ZModem.generate(keys.tagged(SUBJECTS.get(0), "login", "fail")))
                .as("different subjects spread over the slots")
                .isNotEqualTo(ZModem.generate(keys.tagged(SUBJECTS.get(2), "login", "fail")));
    }

    @Test
    void onASingleRedisTheKeysKeepTheNamesEarlierReleasesWrote() {
        RedisKeys keys = new RedisKeys("tf:");
        assertThat(keys.tagged("user:42", "login", "fail")).isEqualTo("tf:login:fail:user:42");
        assertThat(keys.tagged("user:42", "login", "lockouts")).isEqualTo(keys.key("login", "lockouts", "user:42"));
        assertThat(new RedisKeys("tf:", true).tagged("user:42", "login", "fail"))
                .isEqualTo("tf:login:fail:{user:42}");
    }
}
