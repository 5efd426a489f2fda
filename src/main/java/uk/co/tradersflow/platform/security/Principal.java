package uk.co.tradersflow.platform.security;

import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import java.util.UUID;

/**
 * The authenticated caller of a request, established by {@code auth.AuthGuard} from a verified access
 * token and the live session behind it. {@code impersonatorId} is set when an owner signed in
 * as this user through a support sign-in link.
 */
public record Principal(
        UUID userId,
        UUID accountId,
        UUID sessionId,
        String email,
        boolean emailVerified,
        Optional<UUID> impersonatorId) {
    private static final String KEY = "tf.principal";

    public void attach(RoutingContext ctx) {
        ctx.put(KEY, this);
    }

    /** The principal of an authenticated route; only reachable behind {@code auth.AuthGuard}. */
    public static Principal of(RoutingContext ctx) {
        Principal p = ctx.get(KEY);
        if (p == null) {
            throw new IllegalStateException("route is not behind AuthGuard");
        }
        return p;
    }

    public static Optional<Principal> find(RoutingContext ctx) {
        return Optional.ofNullable(ctx.get(KEY));
    }
}
