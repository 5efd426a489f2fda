package uk.co.tradersflow.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code TF_DEV_MAIL} (issue 23 item 14): development mail, whose log lines carry live links, is
 * on by default only where everything else is a development default too, and never with a public
 * URL other than this machine's.
 */
class DevMailSettingTest {
    private static AppConfig env(Map<String, String> env) {
        return ConfigLoader.load(env, Optional.empty());
    }

    private static Map<String, String> with(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    @Test
    void onByDefaultOnlyWithTheOtherDevelopmentDefaults() {
        String key = Base64.getEncoder().encodeToString(new byte[32]);
        assertThat(env(Map.of()).email().devMail())
                .as("a fresh checkout with nothing set")
                .isTrue();
        assertThat(env(with("TF_PUBLIC_URL", "https://127.0.0.1:9443")).email().devMail())
                .isTrue();
        assertThat(env(with("TF_SMTP_HOST", "mailpit")).email().devMail())
                .as("a mail server is configured")
                .isFalse();
        assertThat(env(with("TF_SMTP_PORT", "2525")).email().devMail()).isFalse();
        assertThat(env(with("TF_SMTP_USER", "apikey")).email().devMail()).isFalse();
        assertThat(env(with("TF_DATA_KEY", key)).email().devMail())
                .as("production keys are configured")
                .isFalse();
        assertThat(env(with("TF_URL_SIGNING_KEY", key)).email().devMail()).isFalse();
        assertThat(env(with("TF_PUBLIC_URL", "https://api.tradersflow.co.uk"))
                        .email()
                        .devMail())
                .as("a production URL")
                .isFalse();
        assertThat(env(with("TF_PUBLIC_URL", "https://localhost.example.com"))
                        .email()
                        .devMail())
                .isFalse();
        assertThat(env(with("TF_APP_URL", "https://app.tradersflow.co.uk"))
                        .email()
                        .devMail())
                .as("links lead to a production app")
                .isFalse();
        assertThat(env(with("TF_DEV_MAIL", "off")).email().devMail()).isFalse();
    }

    @Test
    void turnedOnWithAProductionUrlItStopsStartUpNamingTheSetting() {
        assertThat(env(with("TF_DEV_MAIL", "on", "TF_SMTP_HOST", "mailpit"))
                        .email()
                        .devMail())
                .as("on, on a developer machine")
                .isTrue();
        for (String url :
                new String[] {"https://api.tradersflow.co.uk", "https://10.0.0.5:8443", "http://192.168.1.20"}) {
            assertThatThrownBy(() -> env(with("TF_DEV_MAIL", "on", "TF_PUBLIC_URL", url)))
                    .as(url)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("TF_DEV_MAIL")
                    .hasMessageContaining("TF_PUBLIC_URL")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
        assertThatThrownBy(() -> env(with("TF_DEV_MAIL", "on", "TF_APP_URL", "https://app.tradersflow.co.uk")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_DEV_MAIL")
                .hasMessageContaining("TF_APP_URL");
        assertThatThrownBy(() -> env(with("TF_DEV_MAIL", "sometimes")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("TF_DEV_MAIL")
                .hasMessageContaining("auto, on or off");
    }
}
