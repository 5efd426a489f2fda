package uk.co.tradersflow.platform.module;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.util.Optional;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.platform.crypto.ServerKeys;
import uk.co.tradersflow.platform.db.Db;
import uk.co.tradersflow.platform.http.ClientInfo;
import uk.co.tradersflow.platform.redis.RedisKeys;

/**
 * The clients every capability's module is built from, created once by {@code MainVerticle}:
 * one Postgres access ({@link Db}), one Redis client, the meters and the clock. Services of
 * other capabilities are not in here (the kernel names none): a module that needs one takes it
 * as an argument of its {@code create}.
 */
public record Shared(
        Vertx vertx,
        AppConfig config,
        ServerKeys keys,
        Db db,
        Redis redis,
        RedisKeys redisKeys,
        ClientInfo clients,
        MeterRegistry meters,
        Optional<PrometheusMeterRegistry> prometheus,
        Clock clock) {}
