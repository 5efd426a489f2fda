package uk.co.tradersflow.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sealer's rounds: none lost, one at a time, paced while wanted, and none after a stop. */
class SealRoundsTest {
    private static final long MS = 1_000_000;
    private static final int FULL = 1000;

    private long now = 5_000 * MS;
    private final List<Promise<Integer>> started = new ArrayList<>();
    private final List<Long> timerDelays = new ArrayList<>();
    private final List<Runnable> timerTasks = new ArrayList<>();
    private final SealRounds rounds = new SealRounds(
            Duration.ofMillis(50),
            FULL,
            () -> {
                Promise<Integer> round = Promise.promise();
                started.add(round);
                return round.future();
            },
            (ms, task) -> {
                timerDelays.add(ms);
                timerTasks.add(task);
            },
            () -> now);

    private void fireTimer() {
        assertThat(timerTasks).as("a timer is set").hasSize(1);
        Runnable task = timerTasks.remove(0);
        now += timerDelays.remove(0) * MS;
        task.run();
    }

    @Test
    void theFirstWantStartsARoundAtOnce() {
        rounds.wanted();
        assertThat(started).hasSize(1);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void wantsDuringARoundMakeOneMoreRoundOnceTheGapHasPassed() {
        rounds.wanted();
        now += 10 * MS;
        rounds.wanted();
        rounds.wanted();
        assertThat(started).as("one round at a time").hasSize(1);
        now += 5 * MS;
        started.get(0).complete(16);
        assertThat(started).as("paced: not yet").hasSize(1);
        assertThat(timerDelays).containsExactly(35L);
        fireTimer();
        assertThat(started).as("the round the wants asked for").hasSize(2);
        started.get(1).complete(4);
        assertThat(started).as("the wants were answered: no third round").hasSize(2);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void aWaitOfLessThanAMillisecondIsRoundedUpNotDown() {
        rounds.wanted();
        started.get(0).complete(1);
        now += 49_500_000;
        rounds.wanted();
        assertThat(timerDelays)
                .as("a zero-millisecond timer is refused by Vert.x")
                .containsExactly(1L);
        fireTimer();
        assertThat(started).hasSize(2);
    }

    @Test
    void aRoundThatThrowsIsAFailedRoundNotAStuckOne() {
        List<Integer> calls = new ArrayList<>();
        SealRounds throwing = new SealRounds(
                Duration.ofMillis(50),
                FULL,
                () -> {
                    calls.add(calls.size());
                    throw new IllegalStateException("pool closed");
                },
                (ms, task) -> timerTasks.add(task),
                () -> now);
        throwing.wanted();
        now += 60 * MS;
        throwing.wanted();
        assertThat(calls)
                .as("the second want starts a round: the first did not stay running")
                .hasSize(2);
        assertThat(throwing.stop().succeeded()).isTrue();
    }

    @Test
    void wantsWhileTheTimerIsSetAreCoveredByTheRoundItStarts() {
        rounds.wanted();
        started.get(0).complete(3);
        now += 20 * MS;
        rounds.wanted();
        now += 10 * MS;
        rounds.wanted();
        rounds.wanted();
        assertThat(timerDelays).as("one timer, for the rest of the gap").containsExactly(30L);
        fireTimer();
        assertThat(started).hasSize(2);
        started.get(1).complete(2);
        assertThat(started).as("nothing was wanted during that round").hasSize(2);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void aWantOnceTheGapHasPassedStartsAtOnce() {
        rounds.wanted();
        started.get(0).complete(1);
        now += 50 * MS;
        rounds.wanted();
        assertThat(started).hasSize(2);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void aFullRoundIsFollowedAtOnceWithoutWaitingForTheGap() {
        rounds.wanted();
        now += 3 * MS;
        rounds.wanted();
        started.get(0).complete(FULL);
        assertThat(started).as("more were waiting: caught up at once").hasSize(2);
        started.get(1).complete(7);
        assertThat(started)
                .as("the want during the full round was answered by the next")
                .hasSize(2);
        assertThat(started).hasSize(2);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void aFailedRoundIsNotRepeatedUntilARoundIsWantedAgain() {
        rounds.wanted();
        rounds.wanted();
        started.get(0).fail("database down");
        assertThat(started).hasSize(1);
        assertThat(timerTasks).isEmpty();
        now += 500 * MS;
        rounds.wanted(); // the sealer's timer
        assertThat(started).hasSize(2);
    }

    @Test
    void aStopWaitsForTheRoundInFlightAndNoRoundStartsAfterIt() {
        rounds.wanted();
        rounds.wanted();
        Future<Void> stopped = rounds.stop();
        assertThat(stopped.isComplete()).as("a round is in flight").isFalse();
        started.get(0).complete(FULL);
        assertThat(stopped.succeeded()).isTrue();
        rounds.wanted();
        assertThat(started)
                .as("neither the wanted, the full round nor a new want start one")
                .hasSize(1);
        assertThat(timerTasks).isEmpty();
    }

    @Test
    void aTimerThatFiresAfterTheStopStartsNothing() {
        rounds.wanted();
        started.get(0).complete(1);
        rounds.wanted();
        assertThat(rounds.stop().succeeded()).as("no round in flight").isTrue();
        fireTimer();
        assertThat(started).hasSize(1);
    }

    @Test
    void aStopAfterAFailedRoundDoesNotFail() {
        rounds.wanted();
        started.get(0).fail("database down");
        assertThat(rounds.stop().succeeded()).isTrue();
    }
}
