package uk.co.tradersflow.platform.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Each redaction rule, on the kind of text a careless log line would carry. */
class RedactorTest {
    private static final String JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWJ5dGVz";

    @Test
    void privateKeyBlocksAreRemovedWhole() {
        String text =
                "key=-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\nAgEGCCqGSM49AwEHBG0w\n-----END PRIVATE KEY----- done";
        assertThat(Redactor.redact(text)).isEqualTo("key=[REDACTED PRIVATE KEY] done");
        assertThat(Redactor.redact("-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----"))
                .doesNotContain("abc");
    }

    @Test
    void bearerAndBasicCredentialsAreRemoved() {
        assertThat(Redactor.redact("Authorization: Bearer abcdefgh12345678.x_y-z"))
                .doesNotContain("abcdefgh12345678");
        assertThat(Redactor.redact("authorization: basic dXNlcjpwYXNzd29yZA==")).doesNotContain("dXNlcjpwYXNzd29yZA");
    }

    @Test
    void bareJwtsAreRemoved() {
        assertThat(Redactor.redact("token was " + JWT + " ok")).isEqualTo("token was [REDACTED JWT] ok");
    }

    @Test
    void stripeKeysAreRemoved() {
        assertThat(Redactor.redact("using sk_live_51HxYzAbCdEfGh and rk_test_abcdefghij"))
                .contains("sk_live_[REDACTED]")
                .contains("rk_test_[REDACTED]")
                .doesNotContain("51HxYz")
                .doesNotContain("abcdefghij");
    }

    @Test
    void webhookSecretsAreRemoved() {
        assertThat(Redactor.redact("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
                .isEqualTo("secret whsec_[REDACTED]");
    }

    @Test
    void refreshTokensAreRemoved() {
        assertThat(Redactor.redact("refresh tfr_abcdefgh123456")).isEqualTo("refresh tfr_[REDACTED]");
    }

    @Test
    void deviceTokensAreRemoved() {
        assertThat(Redactor.redact("device tfd_MTIzNDU2Nzg5.c2lnbmF0dXJlLXZhbHVl rejected"))
                .isEqualTo("device tfd_[REDACTED] rejected");
    }

    @Test
    void secretQueryParametersAreRemoved() {
        assertThat(Redactor.redact("GET /verify-email?token=abc123&x=1 /f?sig=zzz;key=kkk"))
                .contains("?token=")
                .contains("&x=1")
                .contains("?sig=[REDACTED]")
                .doesNotContain("abc123")
                .doesNotContain("zzz")
                .doesNotContain("kkk");
    }

    @Test
    void passwordLikeFieldsAreRemovedInJsonAndKeyValueForms() {
        assertThat(Redactor.redact("{\"email\":\"a@b.c\",\"password\":\"hunter2hunter2\"}"))
                .contains("a@b.c")
                .doesNotContain("hunter2");
        assertThat(Redactor.redact("newPassword=s3cretpass currentPassword: oldpass1"))
                .doesNotContain("s3cretpass")
                .doesNotContain("oldpass1");
        assertThat(Redactor.redact("{\"refreshToken\":\"opaque-value\",\"confirmationToken\":\"c-value\"}"))
                .doesNotContain("opaque-value")
                .doesNotContain("c-value");
    }

    @Test
    void connectionUrlPasswordsAreRemoved() {
        assertThat(Redactor.redact("postgresql://tf_app:pgpass@db:5432/tf"))
                .isEqualTo("postgresql://tf_app:[REDACTED]@db:5432/tf");
        assertThat(Redactor.redact("redis://:redispass@cache:6379")).isEqualTo("redis://:[REDACTED]@cache:6379");
    }

    @Test
    void ordinaryTextIsLeftAlone() {
        String text = "request_id=abc method=GET route=/api/v1/customers status=200 latency_ms=1.234";
        assertThat(Redactor.redact(text)).isEqualTo(text);
        assertThat(Redactor.redact(null)).isNull();
        assertThat(Redactor.redact("")).isEmpty();
    }

    /**
     * The word checks only skip work: over text built from pieces of every rule's secrets, in
     * random case and order, redacting with them gives exactly what running every pattern gives.
     */
    @Test
    void theWordChecksNeverChangeWhatIsRedacted() {
        String[] pieces = {
            "Bearer ",
            "basic ",
            "Authorization: ",
            "authorization=",
            "password",
            "Passwd",
            "newPassword",
            "currentPassword",
            "secret",
            "client_secret",
            "token",
            "accessToken",
            "deviceToken",
            "apiKey",
            "api_key",
            "confirmationToken",
            ": ",
            "=",
            "\"",
            "?",
            "&",
            ";",
            "sig=",
            "signature=",
            "code=",
            "key=",
            " ",
            ",",
            "}",
            "-----BEGIN PRIVATE KEY-----\nabc\n",
            "-----END PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            JWT,
            "eyJ",
            "sk_",
            "live_",
            "test_",
            "rk_test_",
            "pk_live_",
            "whsec_",
            "tfr_",
            "tfd_",
            "abcdefgh12345678",
            "x.y-z",
            "postgres://",
            "postgresql://u:",
            "redis://",
            "rediss://:",
            "@host",
            "pw",
            "K",
            "\u212a",
            "request_id=",
            "route=/api/v1/invoices",
            "status=200",
            "İ",
            "ß"
        };
        java.util.Random random = new java.util.Random(20261125);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder();
            for (int n = random.nextInt(12); n >= 0; n--) {
                String piece = pieces[random.nextInt(pieces.length)];
                text.append(random.nextBoolean() ? piece : piece.toUpperCase(java.util.Locale.ROOT));
            }
            String line = text.toString();
            assertThat(Redactor.redact(line)).as(line).isEqualTo(Redactor.redactWithoutWordChecks(line));
        }
    }

    @Test
    void aRequestLogLineNeedsNoPatternAndIsLeftAlone() {
        String line =
                "request_id=3f1c2a9e-0d4b-4c55-9a43-1b0c3e2f4a5d method=GET route=/api/v1/invoices status=200 latency_ms=4.213";
        assertThat(Redactor.redact(line)).isSameAs(line);
    }

    /**
     * What the word checks rely on: a replacement never writes a word some rule needs that its match
     * did not already hold, so the original text's words decide for every rule, however many
     * replaced before it. A new rule
     * that broke this would fail here, before any fuzzing found it.
     */
    @Test
    void noReplacementWritesAWordAnyRuleNeeds() {
        for (Redactor.Rule rule : Redactor.RULES) {
            String written = rule.replacement().replaceAll("\\$\\d", "").toLowerCase(java.util.Locale.ROOT);
            // A word the pattern itself matches literally (whsec_ in "whsec_[REDACTED]") was already there.
            for (String own : rule.needs()) {
                if (rule.pattern().pattern().toLowerCase(java.util.Locale.ROOT).contains(own)) {
                    written = written.replace(own, "");
                }
            }
            for (Redactor.Rule other : Redactor.RULES) {
                for (String word : other.needs()) {
                    assertThat(written).as(rule.replacement()).doesNotContain(word);
                }
            }
        }
    }
}
