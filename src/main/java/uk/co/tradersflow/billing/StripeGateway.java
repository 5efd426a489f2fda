package uk.co.tradersflow.billing;

import com.stripe.StripeClient;
import com.stripe.exception.StripeException;
import com.stripe.net.RequestOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * The one door to Stripe. stripe-java is blocking, so every call runs on a bounded, named worker
 * pool ({@code tf-stripe}) with connect/read timeouts and no hidden retries; a failure of any kind
 * becomes 503 {@code stripe_unavailable}, and callers write nothing until the call succeeded.
 * The wait for the answer is bounded as a whole too (connect + read timeout, the time queued for a
 * worker included): when Stripe is slow, the 16 workers are soon all held by calls waiting for it,
 * and a call queued behind them would otherwise wait for theirs to time out first.
 * The client is an instance ({@link StripeClient}) configured with the key and API base, never
 * stripe-java's global static settings.
 */
public final class StripeGateway {
    private static final Logger log = LoggerFactory.getLogger(StripeGateway.class);
    static final int POOL_SIZE = 16;
    private static final int CONNECT_TIMEOUT_MS = 3_000;

    private final Optional<StripeClient> client;
    private final WorkerExecutor pool;
    /** The longest a caller waits for a call's outcome, queueing included. */
    private final long deadlineMs;

    public StripeGateway(Vertx vertx, AppConfig.BillingSettings config) {
        int readTimeoutMs = (int) config.stripeTimeout().toMillis();
        int connectTimeoutMs = Math.min(CONNECT_TIMEOUT_MS, readTimeoutMs);
        this.deadlineMs = connectTimeoutMs + readTimeoutMs;
        this.client = config.stripeSecretKey().map(key -> {
            StripeClient.StripeClientBuilder b = StripeClient.builder()
                    .setApiKey(key)
                    .setConnectTimeout(connectTimeoutMs)
                    .setReadTimeout(readTimeoutMs)
                    .setMaxNetworkRetries(0);
            config.stripeApiBase().ifPresent(base -> {
                String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
                b.setApiBase(trimmed)
                        .setConnectBase(trimmed)
                        .setFilesBase(trimmed)
                        .setMeterEventsBase(trimmed);
            });
            return b.build();
        });
        // Bounded: at most POOL_SIZE Stripe calls in flight; the rest queue. Max execute time is a
        // watchdog above the read timeout, so a stuck socket is reported, not silently held.
        this.pool = vertx.createSharedWorkerExecutor(
                "tf-stripe", POOL_SIZE, Math.max(20_000, 2L * deadlineMs), TimeUnit.MILLISECONDS);
    }

    /** The longest a caller waits for one {@link #call}'s outcome, queueing for a worker included. */
    long deadlineMs() {
        return deadlineMs;
    }

    public boolean configured() {
        return client.isPresent();
    }

    /** Fails with 503 {@code billing_not_configured} when no secret key is set. */
    public Future<Void> requireConfigured() {
        return configured()
                ? Future.succeededFuture()
                : Future.failedFuture(
                        AppError.of(ErrorCode.BILLING_NOT_CONFIGURED, "Billing is not configured on this server"));
    }

    /**
     * A blocking Stripe call, run off the event loop; every failure is 503 stripe_unavailable, and
     * so is no outcome within the deadline. A call given up on may still finish at Stripe: every
     * write carries an Idempotency-Key, so the caller's retry gets that same object.
     */
    public <T> Future<T> call(String what, StripeCall<T> call) {
        if (client.isEmpty()) {
            return requireConfigured().map(v -> null);
        }
        StripeClient c = client.get();
        Callable<T> task = () -> call.apply(c);
        return pool.<T>executeBlocking(task, false)
                .timeout(deadlineMs, TimeUnit.MILLISECONDS)
                .recover(e -> {
                    if (e instanceof AppError) {
                        return Future.failedFuture(e);
                    }
                    if (e instanceof StripeException se) {
                        log.warn(
                                "stripe call failed: {} status={} code={} requestId={}",
                                what,
                                se.getStatusCode(),
                                se.getCode(),
                                se.getRequestId());
                    } else {
                        log.warn("stripe call failed: {}: {}", what, e.toString());
                    }
                    return Future.failedFuture(AppError.of(
                            ErrorCode.STRIPE_UNAVAILABLE, "Stripe could not be reached; try again shortly"));
                });
    }

    /**
     * {@link #call}, for a request Stripe may refuse on its merits (a refund above what is left,
     * a payment that does not exist): Stripe's refusal (HTTP 400, 402 or 404) becomes 422
     * {@code stripe_refused} with Stripe's own message; anything else is 503 as in {@link #call}.
     */
    public <T> Future<T> callRefusable(String what, StripeCall<T> call) {
        return call(what, c -> {
            try {
                return call.apply(c);
            } catch (com.stripe.exception.InvalidRequestException | com.stripe.exception.CardException e) {
                Integer status = e.getStatusCode();
                if (status != null && (status == 400 || status == 402 || status == 404)) {
                    String message =
                            e.getStripeError() != null && e.getStripeError().getMessage() != null
                                    ? e.getStripeError().getMessage()
                                    : "Stripe refused the request";
                    throw AppError.of(ErrorCode.STRIPE_REFUSED, message);
                }
                throw e;
            }
        });
    }

    /** Stripe's statuses of a subscription that is still, or may still become, billed. */
    public static final java.util.Set<String> LIVE_SUBSCRIPTION =
            java.util.Set.of("trialing", "active", "past_due", "unpaid", "incomplete", "paused");

    /** Every subscription the customer has or had at Stripe (a customer has a handful at most). */
    public Future<java.util.List<com.stripe.model.Subscription>> subscriptionsOf(String customer) {
        return call("subscriptions.list", c -> c.v1().subscriptions()
                .list(com.stripe.param.SubscriptionListParams.builder()
                        .setCustomer(customer)
                        .setStatus(com.stripe.param.SubscriptionListParams.Status.ALL)
                        .setLimit(100L)
                        .build())
                .getData());
    }

    public static RequestOptions idempotent(String key) {
        return RequestOptions.builder().setIdempotencyKey(key).build();
    }

    public static RequestOptions onConnected(String connectedAccount, String idempotencyKey) {
        RequestOptions.RequestOptionsBuilder b = RequestOptions.builder().setStripeAccount(connectedAccount);
        if (idempotencyKey != null) {
            b.setIdempotencyKey(idempotencyKey);
        }
        return b.build();
    }

    public Future<Void> close() {
        return pool.close();
    }

    @FunctionalInterface
    public interface StripeCall<T> {
        T apply(StripeClient client) throws StripeException;
    }
}
