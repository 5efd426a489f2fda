package uk.co.tradersflow.auth.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.RSAKey;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.support.TestServer;

/** The key set's life on its own: kept per max-age, refreshed before expiry, outliving its provider. */
class JwksCacheTest {
    static final RSAKey FIRST = LocalJwks.rsa("first");
    static final RSAKey SECOND = LocalJwks.rsa("second");
    private final Vertx vertx = Vertx.vertx();
    private final WebClient client = WebClient.create(vertx);
    private LocalJwks provider;
    private JwksCache cache;

    @AfterEach
    void close() {
        if (cache != null) {
            vertx.runOnContext(v -> cache.stop());
        }
        if (provider != null) {
            provider.close();
        }
        TestServer.await(vertx.close());
    }

    private JwksCache started(LocalJwks jwks) {
        cache = new JwksCache(vertx, client, "Test", jwks.url());
        vertx.runOnContext(v -> cache.start());
        return cache;
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }

    @Test
    void theSetIsFetchedAgainBeforeItsMaxAgeRunsOutWithoutAnyoneAsking() throws Exception {
        provider = LocalJwks.start(FIRST);
        provider.cacheControl("public, max-age=2");
        started(provider);
        await(() -> provider.fetches() == 1, Duration.ofSeconds(5));
        provider.publish(FIRST, SECOND);
        // Refreshed at 1.8 s, a tenth of its life ahead of expiry.
        await(() -> provider.fetches() >= 2, Duration.ofSeconds(4));
        Thread.sleep(200);
        long fetched = cache.fetches();
        assertThat(TestServer.await(cache.key("second"))).isPresent();
        assertThat(cache.fetches())
                .as("the new key was there already: no fetch for it")
                .isEqualTo(fetched);
    }

    @Test
    void theKeysHeldKeepWorkingPastTheirMaxAgeWhileTheProviderIsUnreachable() throws Exception {
        provider = LocalJwks.start(FIRST);
        provider.cacheControl("max-age=2");
        started(provider);
        await(() -> provider.fetches() == 1, Duration.ofSeconds(5));
        provider.down();
        Thread.sleep(3_000);
        assertThat(TestServer.await(cache.key("first"))).isPresent();
    }

    @Test
    void withNoKeysAtAllTheAnswerIs503() {
        provider = LocalJwks.unreachable(FIRST);
        started(provider);
        assertThatThrownBy(() -> TestServer.await(cache.key("first")))
                .isInstanceOfSatisfying(
                        AppError.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PROVIDER_UNAVAILABLE));
    }

    @Test
    void maxAgeComesFromCacheControlWithinBounds() {
        assertThat(JwksCache.maxAge(null)).isEqualTo(Duration.ofHours(1));
        assertThat(JwksCache.maxAge("public, max-age=21600, must-revalidate, no-transform"))
                .isEqualTo(Duration.ofHours(6));
        assertThat(JwksCache.maxAge("s-maxage=5")).isEqualTo(Duration.ofHours(1));
        assertThat(JwksCache.maxAge("no-store")).isEqualTo(Duration.ofSeconds(2));
        assertThat(JwksCache.maxAge("max-age=0")).isEqualTo(Duration.ofSeconds(2));
        assertThat(JwksCache.maxAge("max-age=99999999")).isEqualTo(Duration.ofDays(1));
        assertThat(JwksCache.refreshDelay(Duration.ofHours(1))).isEqualTo(Duration.ofMinutes(55));
        assertThat(JwksCache.refreshDelay(Duration.ofSeconds(2))).isEqualTo(Duration.ofMillis(1800));
    }
}
