package uk.co.tradersflow.auth.oauth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * One provider's signing keys (its JWK set), fetched with the Vert.x {@link WebClient} (never
 * blocking) and kept as long as the answer's {@code Cache-Control: max-age} says (1 hour without
 * one; held between 2 seconds and a day), refreshed in the background before that runs out.
 *
 * <p>A key id the set lacks fetches the set again, at most once a minute (an ID token's {@code kid}
 * is the sender's choice: forged ones must not make the server hammer the provider); tokens meanwhile
 * are answered from what is held. While the provider cannot be reached the keys last fetched keep
 * working, however old; with none at all (a cold start) sign-in answers 503
 * {@code provider_unavailable}. Shared by every event loop: its state is atomic, one fetch is in
 * flight at a time, and a caller's continuation runs back on the caller's own context.
 */
final class JwksCache {
    private static final Logger log = LoggerFactory.getLogger(JwksCache.class);
    static final Duration DEFAULT_MAX_AGE = Duration.ofHours(1);
    static final Duration MIN_MAX_AGE = Duration.ofSeconds(2);
    static final Duration MAX_MAX_AGE = Duration.ofDays(1);
    /** Fetches a token with an unknown key id may cause: one per this interval. */
    static final Duration REFETCH_INTERVAL = Duration.ofMinutes(1);

    private static final Duration RETRY_FIRST = Duration.ofSeconds(5);
    private static final Duration RETRY_MAX = Duration.ofMinutes(1);
    private static final long TIMEOUT_MS = 5_000;
    private static final int MAX_BYTES = 256 * 1024;
    private static final Pattern MAX_AGE = Pattern.compile("(?i)(?:^|[,\\s])max-age\\s*=\\s*\"?(\\d{1,12})");

    /** The keys as last fetched, and how long the provider said they may be kept. */
    record Keys(JWKSet set, Duration maxAge) {}

    private final Vertx vertx;
    private final WebClient client;
    private final String provider;
    private final String url;
    private final AtomicReference<Keys> keys = new AtomicReference<>();
    private final AtomicReference<Future<Keys>> inFlight = new AtomicReference<>();
    private final AtomicLong fetches = new AtomicLong();
    private boolean refetchedBefore;
    private long lastRefetchNanos;
    private volatile boolean running;
    private volatile long timer = -1;
    private volatile Duration retry = RETRY_FIRST;

    JwksCache(Vertx vertx, WebClient client, String provider, String url) {
        this.vertx = vertx;
        this.client = client;
        this.provider = provider;
        this.url = url;
    }

    /**
     * Starts keeping the set: a first fetch now, then one before each expiry (a failed one is
     * retried after 5 s, doubling to a minute). Its outcome is only logged: sign-in answers 503
     * until a fetch succeeds. Timers run on the caller's context (the module's verticle).
     */
    void start() {
        running = true;
        refreshInBackground();
    }

    void stop() {
        running = false;
        long id = timer;
        if (id >= 0) {
            vertx.cancelTimer(id);
        }
    }

    /** How many times the set has been fetched (for the tests of the refetch limit). */
    long fetches() {
        return fetches.get();
    }

    /**
     * The key with this id: from the set held, or after one refetch if it is not there and none
     * was made within the last minute. Empty when the provider does not (or no longer) publish it;
     * 503 when there are no keys at all or the refetch the id called for failed.
     */
    Future<Optional<JWK>> key(String kid) {
        Keys held = keys.get();
        if (held != null) {
            JWK found = held.set().getKeyByKeyId(kid);
            if (found != null) {
                return Future.succeededFuture(Optional.of(found));
            }
        }
        Future<Keys> pending = inFlight.get();
        Future<Keys> refetch = pending != null ? pending : refetchAllowed() ? fetch() : null;
        if (refetch == null) {
            return held == null ? Future.failedFuture(unavailable()) : Future.succeededFuture(Optional.empty());
        }
        return onCallersContext(refetch.transform(ar -> {
            Keys now = keys.get();
            if (ar.failed() || now == null) {
                return Future.failedFuture(unavailable());
            }
            return Future.succeededFuture(Optional.ofNullable(now.set().getKeyByKeyId(kid)));
        }));
    }

    private synchronized boolean refetchAllowed() {
        long now = System.nanoTime();
        if (refetchedBefore && now - lastRefetchNanos < REFETCH_INTERVAL.toNanos()) {
            return false;
        }
        refetchedBefore = true;
        lastRefetchNanos = now;
        return true;
    }

    private AppError unavailable() {
        return AppError.of(
                ErrorCode.PROVIDER_UNAVAILABLE,
                "Sign-in with " + provider + " is unavailable right now; try again shortly");
    }

    private void refreshInBackground() {
        if (!running) {
            return;
        }
        fetch().onComplete(ar -> {
            Duration next;
            if (ar.succeeded()) {
                retry = RETRY_FIRST;
                next = refreshDelay(ar.result().maxAge());
            } else {
                next = retry;
                Duration doubled = retry.multipliedBy(2);
                retry = doubled.compareTo(RETRY_MAX) > 0 ? RETRY_MAX : doubled;
            }
            if (running) {
                timer = vertx.setTimer(Math.max(1, next.toMillis()), id -> refreshInBackground());
            }
        });
    }

    /** Ahead of expiry by a tenth of the keys' life (at most 5 minutes). */
    static Duration refreshDelay(Duration maxAge) {
        Duration ahead = maxAge.dividedBy(10);
        if (ahead.compareTo(Duration.ofMinutes(5)) > 0) {
            ahead = Duration.ofMinutes(5);
        }
        return maxAge.minus(ahead);
    }

    /** One fetch at a time: a caller that arrives while one is in flight shares it. */
    private Future<Keys> fetch() {
        Promise<Keys> mine = Promise.promise();
        Future<Keys> already = inFlight.compareAndExchange(null, mine.future());
        if (already != null) {
            return already;
        }
        fetches.incrementAndGet();
        client.getAbs(url)
                .timeout(TIMEOUT_MS)
                .putHeader("Accept", "application/json")
                .send()
                .map(this::parse)
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        keys.set(ar.result());
                        log.debug(
                                "{} signing keys fetched: {} key(s), kept {} s",
                                provider,
                                ar.result().set().size(),
                                ar.result().maxAge().toSeconds());
                    } else {
                        log.warn(
                                "{} signing keys could not be fetched from {}: {}{}",
                                provider,
                                url,
                                ar.cause().getMessage(),
                                keys.get() == null ? " (sign-in answers 503 until they are)" : "; the keys held stay");
                    }
                    inFlight.set(null);
                    mine.handle(ar);
                });
        return mine.future();
    }

    private Keys parse(HttpResponse<Buffer> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("answered HTTP " + response.statusCode());
        }
        Buffer body = response.body();
        if (body == null || body.length() > MAX_BYTES) {
            throw new IllegalStateException("no key set, or one over " + MAX_BYTES + " bytes");
        }
        JWKSet set;
        try {
            set = JWKSet.parse(body.toString(StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new IllegalStateException("not a JWK set: " + e.getMessage());
        }
        // Public signing keys with an id only: a token names its key by id, and nothing else is used.
        List<JWK> signing = set.toPublicJWKSet().getKeys().stream()
                .filter(k -> k.getKeyID() != null && !k.getKeyID().isEmpty())
                .filter(k -> k.getKeyUse() == null || KeyUse.SIGNATURE.equals(k.getKeyUse()))
                .toList();
        return new Keys(new JWKSet(signing), maxAge(response.getHeader("Cache-Control")));
    }

    /** How long a key set may be kept, from its {@code Cache-Control}: {@code max-age}, held to the bounds. */
    static Duration maxAge(String cacheControl) {
        if (cacheControl == null) {
            return DEFAULT_MAX_AGE;
        }
        Matcher m = MAX_AGE.matcher(cacheControl);
        Duration said;
        if (m.find()) {
            said = Duration.ofSeconds(Long.parseLong(m.group(1)));
        } else if (cacheControl.toLowerCase(java.util.Locale.ROOT).matches(".*\\bno-(store|cache)\\b.*")) {
            said = MIN_MAX_AGE;
        } else {
            return DEFAULT_MAX_AGE;
        }
        return said.compareTo(MIN_MAX_AGE) < 0 ? MIN_MAX_AGE : said.compareTo(MAX_MAX_AGE) > 0 ? MAX_MAX_AGE : said;
    }

    /**
     * {@code result}, completed on the context of whoever asked (an HTTPS event loop): the fetch it
     * may have joined runs on the context that started it.
     */
    private static <T> Future<T> onCallersContext(Future<T> result) {
        Context caller = Vertx.currentContext();
        if (caller == null) {
            return result;
        }
        Promise<T> promise = Promise.promise();
        result.onComplete(ar -> {
            if (Vertx.currentContext() == caller) {
                promise.handle(ar);
            } else {
                caller.runOnContext(v -> promise.handle(ar));
            }
        });
        return promise.future();
    }
}
