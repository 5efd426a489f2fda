package uk.co.tradersflow.platform.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * Decodes the query string once, up front. Vert.x decodes it lazily and throws an
 * {@code IllegalArgumentException} from whichever handler first reads a parameter, which the
 * problem responder can only treat as a 500; a bad escape such as {@code %zz} is the client's
 * mistake, so it is answered 400 here before any handler runs.
 */
public final class QueryCheck implements Handler<RoutingContext> {
    @Override
    public void handle(RoutingContext ctx) {
        try {
            ctx.queryParams();
        } catch (IllegalArgumentException e) {
            ctx.fail(AppError.of(ErrorCode.MALFORMED_REQUEST, "The query string is not valid"));
            return;
        }
        ctx.next();
    }
}
