package uk.co.tradersflow.ratelimit;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script run atomically by Redis in one round trip, called by its SHA-1 ({@code EVALSHA});
 * if Redis has forgotten it (restart, SCRIPT FLUSH, a cluster node that never ran it) the call is
 * made once more with the source ({@code EVAL}), which also caches it. {@code EVAL} carries the
 * keys, so on a cluster it reaches the node that owns them, where a {@code SCRIPT LOAD} (which
 * names no key) would reach any node.
 */
final class RedisScript {
    private final Redis redis;
    private final String source;
    private final String sha;

    RedisScript(Redis redis, String source) {
        this.redis = redis;
        this.source = source;
        try {
            this.sha = HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Future<Response> run(List<String> keys, List<String> args) {
        return redis.send(request(Command.EVALSHA, sha, keys, args)).recover(e -> {
            if (String.valueOf(e.getMessage()).startsWith("NOSCRIPT")) {
                return redis.send(request(Command.EVAL, source, keys, args));
            }
            return Future.failedFuture(e);
        });
    }

    private static Request request(Command command, String script, List<String> keys, List<String> args) {
        Request r = Request.cmd(command).arg(script).arg(keys.size());
        keys.forEach(r::arg);
        args.forEach(r::arg);
        return r;
    }
}
