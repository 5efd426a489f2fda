package uk.co.tradersflow.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static uk.co.tradersflow.billing.BillingFixtures.*;

import com.stripe.Stripe;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.support.FakeStripe;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;

/**
 * The contract's "reply within 2 s" for deliveries that arrive together, as Stripe sends them
 * after an outage: 64 concurrent senders, every fifth delivery a redelivery of the one before,
 * each answered 200 within 2 s and each event stored once, now that an event loop stores its
 * deliveries in batches ({@link StripeEventIntake}). In the suite with 600 deliveries; as a
 * measurement with more: {@code mvn -q -o -B test -Dtest=StripeWebhookThroughputTest
 * -Dtf.webhookBench.events=3000} (figures in the log line "webhook bench: …").
 */
class StripeWebhookThroughputTest {
    private static final Logger log = LoggerFactory.getLogger(StripeWebhookThroughputTest.class);
    static final int SENDERS = 64;
    static FakeStripe fake;
    static TestServer server;

    @RegisterExtension
    static final ServerExtension lifecycle =
            withFakeStripe(started -> fake = started).then(s -> server = s);

    @Test
    void sixtyFourConcurrentSendersAreEachAnsweredWithinTwoSecondsAndEachEventStoredOnce() {
        int total = Integer.getInteger("tf.webhookBench.events", 600);
        long now = Instant.now().getEpochSecond();
        List<String[]> deliveries = new ArrayList<>(total);
        for (int i = 0; i < total; i++) {
            if (i % 5 == 4) {
                deliveries.add(deliveries.get(i - 1)); // a redelivery, likely in the same batch
                continue;
            }
            String body = FakeStripe.event(
                            "customer.subscription.updated",
                            new JsonObject()
                                    .put("id", "sub_bench" + i)
                                    .put("object", "subscription")
                                    .put("customer", "cus_nobody" + i)
                                    .put("status", "active"),
                            null,
                            Stripe.API_VERSION)
                    .encode();
            deliveries.add(new String[] {body, FakeStripe.sign(SECRET_NEW, now, body)});
        }
        // The senders get their own Vert.x, so their TLS handshakes do not run on the server's event loops.
        io.vertx.core.Vertx senders = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions()
                .setEventLoopPoolSize(2)
                .setMaxEventLoopExecuteTime(10)
                .setMaxEventLoopExecuteTimeUnit(java.util.concurrent.TimeUnit.SECONDS));
        WebClient client = WebClient.create(
                senders,
                uk.co.tradersflow.support.TrustAllTls.webClient(
                        server.config.http().httpsPort()),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(SENDERS));
        // Warm-up: one delivery per sender opens its keep-alive TLS connection; handshakes are not measured.
        List<String[]> warmUp = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
            String body = FakeStripe.event("bench.warm_up", new JsonObject(), null, Stripe.API_VERSION)
                    .encode();
            warmUp.add(new String[] {body, FakeStripe.sign(SECRET_NEW, now, body)});
        }
        run(senders, client, warmUp, SENDERS);
        long[] latencies = new long[total];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        long before = count(server, "SELECT count(*) FROM stripe_events");
        long start = System.nanoTime();
        List<Future<Void>> lanes = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            Promise<Void> lane = Promise.promise();
            lanes.add(lane.future());
            senders.runOnContext(v -> sendNext(client, deliveries, latencies, next, failures, lane));
        }
        TestServer.await(Future.all(lanes));
        double seconds = (System.nanoTime() - start) / 1e9;
        client.close();
        TestServer.await(senders.close());
        long stored = count(server, "SELECT count(*) FROM stripe_events") - before;
        long[] sorted = latencies.clone();
        Arrays.sort(sorted);
        double p50 = sorted[(int) (total * 0.50)] / 1e6;
        double p99 = sorted[Math.min(total - 1, (int) Math.ceil(total * 0.99) - 1)] / 1e6;
        String figures = String.format(
                "webhook bench: %d events, %d senders, %.0f events/s verified+stored, p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                total, SENDERS, total / seconds, p50, p99, sorted[total - 1] / 1e6);
        log.info(figures);
        System.out.println(figures);
        assertThat(failures.get()).isZero();
        assertThat(stored).as("each event stored once").isEqualTo(total - total / 5);
        assertThat(p99).as("p99 time to 2xx in ms").isLessThan(2000);
        assertThat(sorted[total - 1] / 1e6)
                .as("every delivery answered within 2 s, in ms")
                .isLessThan(2000);
    }

    private static void run(io.vertx.core.Vertx senders, WebClient client, List<String[]> deliveries, int lanes) {
        long[] ignored = new long[deliveries.size()];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        List<Future<Void>> all = new ArrayList<>();
        for (int s = 0; s < lanes; s++) {
            Promise<Void> lane = Promise.promise();
            all.add(lane.future());
            senders.runOnContext(v -> sendNext(client, deliveries, ignored, next, failures, lane));
        }
        TestServer.await(Future.all(all));
        assertThat(failures.get()).isZero();
    }

    private static void sendNext(
            WebClient client,
            List<String[]> deliveries,
            long[] latencies,
            AtomicInteger next,
            AtomicInteger failures,
            Promise<Void> lane) {
        int i = next.getAndIncrement();
        if (i >= deliveries.size()) {
            lane.complete();
            return;
        }
        long t0 = System.nanoTime();
        client.post("/webhooks/stripe")
                .putHeader("Stripe-Signature", deliveries.get(i)[1])
                .putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(deliveries.get(i)[0]))
                .onComplete(ar -> {
                    latencies[i] = System.nanoTime() - t0;
                    if (ar.failed() || ar.result().statusCode() != 200) {
                        if (failures.incrementAndGet() <= 3) {
                            log.warn(
                                    "bench delivery failed: {}",
                                    ar.failed()
                                            ? ar.cause().toString()
                                            : ar.result().bodyAsString());
                        }
                    }
                    sendNext(client, deliveries, latencies, next, failures, lane);
                });
    }
}
