package uk.co.tradersflow.platform.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.platform.db.OneBatchPerKey.Item;

class OneBatchPerKeyTest {
    private final Vertx vertx = Vertx.vertx();
    /** Each batch the runner was given, as its commands; each left running until released. */
    private final List<List<String>> batches = new ArrayList<>();

    private final List<Promise<Void>> running = new ArrayList<>();

    private final OneBatchPerKey<String, String, String> batcher =
            new OneBatchPerKey<>(3, Duration.ofMinutes(1), (key, batch) -> {
                batches.add(batch.stream().map(Item::command).toList());
                Promise<Void> done = Promise.promise();
                running.add(done);
                return done.future().onSuccess(v -> batch.forEach(item -> item.succeed(key + ":" + item.command())));
            });

    @AfterEach
    void close() {
        vertx.close();
    }

    @Test
    void anItemAloneRunsAtOnce() {
        Future<String> a = batcher.submit("k", "a");
        assertThat(batches).containsExactly(List.of("a"));
        running.get(0).complete();
        assertThat(a.result()).isEqualTo("k:a");
    }

    @Test
    void itemsArrivingWhileTheirKeysBatchRunsGoTogetherInOrderAtMostMaxBatchAtATime() {
        Future<String> first = batcher.submit("k", "1");
        List<Future<String>> waiting = new ArrayList<>();
        for (String c : List.of("2", "3", "4", "5")) {
            waiting.add(batcher.submit("k", c));
        }
        Future<String> otherKey = batcher.submit("j", "x");
        assertThat(batches)
                .as("one batch per key in flight; another key's runs beside it")
                .containsExactly(List.of("1"), List.of("x"));

        running.get(0).complete();
        assertThat(first.result()).isEqualTo("k:1");
        assertThat(batches.get(2)).containsExactly("2", "3", "4");
        assertThat(waiting.get(0).isComplete()).isFalse();

        running.get(2).complete();
        assertThat(batches.get(3)).containsExactly("5");
        running.get(3).complete();
        assertThat(waiting.stream().map(Future::result)).containsExactly("k:2", "k:3", "k:4", "k:5");

        assertThat(otherKey.isComplete()).isFalse();
        running.get(1).complete();
        assertThat(otherKey.result()).isEqualTo("j:x");
        assertThat(batcher.submit("k", "6").isComplete())
                .as("the key is idle again: a new item runs at once")
                .isFalse();
        assertThat(batches.get(4)).containsExactly("6");
    }

    @Test
    void anItemTheRunnerLeftUnsettledFailsWithTheRunnersFailureAndTheNextBatchStillRuns() {
        OneBatchPerKey<String, String, String> failing =
                new OneBatchPerKey<>(8, Duration.ofMinutes(1), (key, batch) -> {
                    batches.add(batch.stream().map(Item::command).toList());
                    if (batch.get(0).command().equals("refused")) {
                        return Future.failedFuture(new IllegalStateException("the database said no"));
                    }
                    Promise<Void> done = Promise.promise();
                    running.add(done);
                    return done.future();
                });
        Future<String> blocker = failing.submit("k", "blocker");
        Future<String> refused = failing.submit("k", "refused");
        Future<String> after = failing.submit("k", "after");
        running.get(0).complete();
        assertThat(blocker.cause()).hasMessageContaining("unsettled");
        assertThat(refused.cause()).hasMessage("the database said no");
        assertThat(after.cause()).as("went with the refused one").hasMessage("the database said no");

        Future<String> next = failing.submit("k", "next");
        assertThat(batches.get(batches.size() - 1)).containsExactly("next");
        running.get(1).complete();
        assertThat(next.failed()).isTrue();
    }

    @Test
    void anItemThatWaitedLongerThanMaxWaitFailsInsteadOfStartingWorkOfItsOwn() throws Exception {
        OneBatchPerKey<String, String, String> patient =
                new OneBatchPerKey<>(8, Duration.ofMillis(500), (key, batch) -> {
                    batches.add(batch.stream().map(Item::command).toList());
                    Promise<Void> done = Promise.promise();
                    running.add(done);
                    return done.future().onSuccess(v -> batch.forEach(item -> item.succeed(item.command())));
                });
        Future<String> slow = patient.submit("k", "slow");
        Future<String> waited = patient.submit("k", "waited");
        Thread.sleep(600); // past maxWait; "fresh" then waits microseconds, far inside it
        Future<String> fresh = patient.submit("k", "fresh");
        running.get(0).complete();
        assertThat(slow.result()).isEqualTo("slow");
        assertThat(waited.cause()).isInstanceOf(TimeoutException.class).hasMessageContaining("nothing was saved");
        assertThat(batches).as("the late item started nothing").containsExactly(List.of("slow"), List.of("fresh"));
        running.get(1).complete();
        assertThat(fresh.result()).isEqualTo("fresh");
    }

    @Test
    void failWaitingFailsTheKeysQueueAtOnceAndLeavesOtherKeysAndLaterItemsAlone() {
        Future<String> inFlight = batcher.submit("k", "in flight");
        Future<String> queued = batcher.submit("k", "queued");
        Future<String> otherKey = batcher.submit("j", "other");
        Future<String> otherQueued = batcher.submit("j", "other queued");
        batcher.failWaiting("k", new IllegalStateException("no answer"));
        assertThat(queued.cause()).hasMessage("no answer");
        assertThat(inFlight.isComplete()).isFalse();
        assertThat(otherQueued.isComplete()).isFalse();

        running.get(0).complete();
        assertThat(inFlight.result()).isEqualTo("k:in flight");
        Future<String> later = batcher.submit("k", "later");
        assertThat(batches.get(batches.size() - 1))
                .as("the key is idle: a new item runs at once")
                .containsExactly("later");
        running.get(running.size() - 1).complete();
        assertThat(later.result()).isEqualTo("k:later");
        running.get(1).complete();
        assertThat(otherKey.result()).isEqualTo("j:other");
    }

    @Test
    void eachOutcomeReachesItsSubmitterOnItsOwnEventLoop() throws Exception {
        List<Context> loops = Collections.synchronizedList(new ArrayList<>());
        vertx.deployVerticle(
                        () -> new AbstractVerticle() {
                            @Override
                            public void start() {
                                loops.add(context);
                            }
                        },
                        new DeploymentOptions().setInstances(2))
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        Context loopA = loops.get(0);
        Context loopB = loops.get(1);
        OneBatchPerKey<String, String, String> perLoop =
                new OneBatchPerKey<>(8, Duration.ofMinutes(1), (key, batch) -> {
                    Promise<Void> done = Promise.promise();
                    running.add(done);
                    return done.future().onSuccess(v -> batch.forEach(item -> item.succeed(item.command())));
                });
        CompletableFuture<Thread> threadA = new CompletableFuture<>();
        CompletableFuture<Thread> threadB = new CompletableFuture<>();
        CompletableFuture<Thread> answeredA = new CompletableFuture<>();
        CompletableFuture<Thread> answeredB = new CompletableFuture<>();
        // Each loop's thread is reported once its item is submitted: "a" must start the batch
        // before "b" arrives, or "b" would start it on loop B and "a" would wait behind it.
        loopA.runOnContext(v -> {
            perLoop.submit("k", "a").onSuccess(r -> answeredA.complete(Thread.currentThread()));
            threadA.complete(Thread.currentThread());
        });
        threadA.get(5, TimeUnit.SECONDS);
        loopB.runOnContext(v -> {
            perLoop.submit("k", "b").onSuccess(r -> answeredB.complete(Thread.currentThread()));
            threadB.complete(Thread.currentThread());
        });
        assertThat(threadB.get(5, TimeUnit.SECONDS)).as("two event loops").isNotSameAs(threadA.get());
        // Both batches are settled on loop A: the first's runner runs there, and so does the next.
        loopA.runOnContext(v -> running.get(0).complete());
        assertThat(answeredA.get(5, TimeUnit.SECONDS)).isSameAs(threadA.get());
        loopA.runOnContext(v -> running.get(1).complete());
        assertThat(answeredB.get(5, TimeUnit.SECONDS)).isSameAs(threadB.get());
    }
}
