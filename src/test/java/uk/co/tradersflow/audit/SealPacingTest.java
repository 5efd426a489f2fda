package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SealPacingTest {
    private static final long MS = 1_000_000;

    @Test
    void theFirstRoundStartsAtOnce() {
        assertThat(new SealPacing(Duration.ofMillis(50)).waitNanos(123 * MS)).isZero();
    }

    @Test
    void aRoundWantedWithinTheGapWaitsForTheRestOfIt() {
        SealPacing pacing = new SealPacing(Duration.ofMillis(50));
        pacing.started(1_000 * MS);
        assertThat(pacing.waitNanos(1_000 * MS)).isEqualTo(50 * MS);
        assertThat(pacing.waitNanos(1_012 * MS)).isEqualTo(38 * MS);
        assertThat(pacing.waitNanos(1_049 * MS)).isEqualTo(MS);
    }

    @Test
    void aRoundWantedOnceTheGapHasPassedStartsAtOnce() {
        SealPacing pacing = new SealPacing(Duration.ofMillis(50));
        pacing.started(1_000 * MS);
        assertThat(pacing.waitNanos(1_050 * MS)).isZero();
        assertThat(pacing.waitNanos(9_000 * MS)).isZero();
    }

    @Test
    void theGapCountsFromTheLastRoundStarted() {
        SealPacing pacing = new SealPacing(Duration.ofMillis(50));
        pacing.started(1_000 * MS);
        pacing.started(1_070 * MS);
        assertThat(pacing.waitNanos(1_080 * MS)).isEqualTo(40 * MS);
    }

    @Test
    void nanoTimeMayBeNegative() {
        SealPacing pacing = new SealPacing(Duration.ofMillis(50));
        pacing.started(-10 * MS);
        assertThat(pacing.waitNanos(0)).isEqualTo(40 * MS);
        assertThat(pacing.waitNanos(45 * MS)).isZero();
    }
}
