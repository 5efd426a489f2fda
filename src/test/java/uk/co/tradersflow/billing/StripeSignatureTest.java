package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;

import com.stripe.net.Webhook;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.billing.StripeSignature.Rejection;

class StripeSignatureTest {
    static final long NOW = 1_790_000_000L;
    static final String SECRET = "whsec_test_secret_value_1234";
    static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(NOW), ZoneOffset.UTC);
    final StripeSignature check =
            new StripeSignature(List.of("whsec_previous_secret_999", SECRET), CLOCK, Duration.ofSeconds(300));
    final String body = "{\"id\":\"evt_1\",\"object\":\"event\",\"amount\":\"£5\"}";
    final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);

    @Test
    void headersStripeJavaGeneratesVerifyAndOursVerifyWithStripeJava() throws Exception {
        String theirs = Webhook.Signature.generateSignatureHeader(body, SECRET, NOW);
        assertThat(check.check(theirs, bytes)).isEmpty();
        String ours = StripeSignature.sign(SECRET, NOW, bytes);
        assertThat(Webhook.Signature.verifyHeader(body, ours, SECRET, 300, CLOCK))
                .isTrue();
    }

    @Test
    void toleranceIsThreeHundredSecondsOnBothSides() {
        assertThat(check.check(StripeSignature.sign(SECRET, NOW - 300, bytes), bytes))
                .isEmpty();
        assertThat(check.check(StripeSignature.sign(SECRET, NOW + 300, bytes), bytes))
                .isEmpty();
        assertThat(check.check(StripeSignature.sign(SECRET, NOW - 301, bytes), bytes))
                .contains(Rejection.STALE);
        assertThat(check.check(StripeSignature.sign(SECRET, NOW + 301, bytes), bytes))
                .contains(Rejection.FUTURE);
    }

    @Test
    void eachKindOfBadHeaderIsNamed() {
        assertThat(check.check(null, bytes)).contains(Rejection.MISSING);
        assertThat(check.check(" ", bytes)).contains(Rejection.MISSING);
        assertThat(check.check("t=abc,v1=" + "0".repeat(64), bytes)).contains(Rejection.MALFORMED);
        assertThat(check.check("t=" + NOW, bytes)).contains(Rejection.MALFORMED);
        assertThat(check.check("v1=" + "0".repeat(64), bytes)).contains(Rejection.MALFORMED);
        // A v0 (test-mode legacy) signature alone is not accepted.
        String v1 = StripeSignature.sign(SECRET, NOW, bytes);
        assertThat(check.check(v1.replace("v1=", "v0="), bytes)).contains(Rejection.MALFORMED);
        assertThat(check.check(v1, "{\"id\":\"evt_2\"}".getBytes(StandardCharsets.UTF_8)))
                .contains(Rejection.MISMATCH);
        // The raw bytes are what is signed: the same JSON re-serialised differently does not verify.
        assertThat(check.check(v1, body.replace(":", ": ").getBytes(StandardCharsets.UTF_8)))
                .contains(Rejection.MISMATCH);
    }

    @Test
    void noSecretsMeansNothingVerifies() {
        StripeSignature none = new StripeSignature(List.of(), CLOCK, Duration.ofSeconds(300));
        assertThat(none.check(StripeSignature.sign(SECRET, NOW, bytes), bytes))
                .isEqualTo(Optional.of(Rejection.MISMATCH));
    }

    @Test
    void stripeStatusesMapAsTheContractSays() {
        assertThat(StripeEventHandler.mapStatus("trialing")).isEqualTo("trialing");
        assertThat(StripeEventHandler.mapStatus("active")).isEqualTo("active");
        assertThat(StripeEventHandler.mapStatus("past_due")).isEqualTo("past_due");
        assertThat(StripeEventHandler.mapStatus("unpaid")).isEqualTo("past_due");
        assertThat(StripeEventHandler.mapStatus("canceled")).isEqualTo("cancelled");
        assertThat(StripeEventHandler.mapStatus("incomplete_expired")).isEqualTo("cancelled");
        assertThat(StripeEventHandler.mapStatus("incomplete")).isEqualTo("none");
    }
}
