package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.BlockedThreadWatch.Pause;
import uk.co.tradersflow.support.BlockedThreadWatch.Warning;

/** Only a warning a forced full GC explains is forgiven; every other still fails its test. */
class BlockedThreadWatchTest {
    private static final long LIMIT = 500;
    // A 400 ms pause, from t = 10,000 ms to 10,400 ms.
    private static final List<Pause> PAUSE = List.of(new Pause(10_000, 10_400));

    private static Warning blocked(long at, long forMs) {
        return new Warning(
                at, "Thread vert.x-eventloop-thread-0 has been blocked for " + forMs + " ms, time limit is 500 ms");
    }

    @Test
    void aTaskThatSpannedThePauseAndRanNoLongerThanTheLimitBesideItIsForgiven() {
        // Started 150 ms before the pause, logged 100 ms after it: 250 ms of its own.
        assertThat(BlockedThreadWatch.explained(blocked(10_500, 650), PAUSE, LIMIT))
                .isTrue();
        // Started just as the pause did, logged when it ended plus the limit's worth of its own.
        assertThat(BlockedThreadWatch.explained(blocked(10_900, 900), PAUSE, LIMIT))
                .isTrue();
    }

    @Test
    void aTaskThatRanLongerThanTheLimitBesideThePauseStillCounts() {
        // 1,000 ms blocked across a 400 ms pause: 600 ms of its own.
        assertThat(BlockedThreadWatch.explained(blocked(10_600, 1_000), PAUSE, LIMIT))
                .isFalse();
    }

    @Test
    void aTaskThatStartedAfterThePauseBeganStillCounts() {
        // Started 100 ms into the pause: the pause cannot have stretched it from its start.
        assertThat(BlockedThreadWatch.explained(blocked(10_700, 600), PAUSE, LIMIT))
                .isFalse();
        // Started after the pause ended.
        assertThat(BlockedThreadWatch.explained(blocked(11_000, 501), PAUSE, LIMIT))
                .isFalse();
    }

    @Test
    void aWarningLoggedBeforeThePauseOrWithoutAPauseStillCounts() {
        assertThat(BlockedThreadWatch.explained(blocked(9_900, 600), PAUSE, LIMIT))
                .isFalse();
        assertThat(BlockedThreadWatch.explained(blocked(10_500, 650), List.of(), LIMIT))
                .isFalse();
    }

    @Test
    void aWarningThatSaysNoDurationStillCounts() {
        assertThat(BlockedThreadWatch.explained(
                        new Warning(10_100, "Thread vert.x-eventloop-thread-0 has been blocked"), PAUSE, LIMIT))
                .isFalse();
    }
}
