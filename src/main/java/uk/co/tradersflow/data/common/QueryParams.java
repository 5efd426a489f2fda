package uk.co.tradersflow.data.common;

import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/** List filters read from the query string. */
public final class QueryParams {
    private QueryParams() {}

    /** {@code ?status=} as one of the enum's values in lower case; anything else is a 400. */
    public static <E extends Enum<E>> Optional<String> status(RoutingContext ctx, Class<E> type) {
        String value = ctx.request().getParam("status");
        if (value == null || value.isEmpty()) {
            return Optional.empty();
        }
        String wanted = value.toLowerCase(Locale.ROOT);
        boolean known = Arrays.stream(type.getEnumConstants())
                .anyMatch(e -> e.name().toLowerCase(Locale.ROOT).equals(wanted));
        if (!known) {
            throw AppError.of(
                    ErrorCode.MALFORMED_REQUEST,
                    "status must be one of "
                            + String.join(
                                    ", ",
                                    Arrays.stream(type.getEnumConstants())
                                            .map(e -> e.name().toLowerCase(Locale.ROOT))
                                            .toList()));
        }
        return Optional.of(wanted);
    }
}
