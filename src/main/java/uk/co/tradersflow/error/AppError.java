package uk.co.tradersflow.error;

import java.util.List;
import java.util.Optional;

/**
 * The one failure type that crosses layers. Whatever throws or fails a future with it decides
 * what the client sees; {@link uk.co.tradersflow.platform.http.ProblemResponder} is the only place that turns it into HTTP.
 * The detail is shown to clients, so it must never carry secrets, SQL or internal names.
 */
public final class AppError extends RuntimeException {
    /** What a rate-limited answer's {@code RateLimit-Limit}, {@code -Remaining} and {@code -Reset} headers say. */
    public record Quota(int limit, int remaining, long resetSeconds) {
        /** Writes the three headers: the one place every rate-limited answer, 429 or not, gets them. */
        public void putOn(io.vertx.core.http.HttpServerResponse response) {
            response.putHeader("RateLimit-Limit", Integer.toString(limit))
                    .putHeader("RateLimit-Remaining", Integer.toString(Math.max(0, remaining)))
                    .putHeader("RateLimit-Reset", Long.toString(resetSeconds));
        }
    }

    private final ErrorCode code;
    private final List<FieldError> fieldErrors;
    private final Optional<Long> retryAfterSeconds;
    private final Optional<Quota> quota;

    private AppError(
            ErrorCode code,
            String detail,
            List<FieldError> fieldErrors,
            Optional<Long> retryAfterSeconds,
            Optional<Quota> quota) {
        super(detail, null, false, false);
        this.code = code;
        this.fieldErrors = List.copyOf(fieldErrors);
        this.retryAfterSeconds = retryAfterSeconds;
        this.quota = quota;
    }

    public static AppError of(ErrorCode code, String detail) {
        return new AppError(code, detail, List.of(), Optional.empty(), Optional.empty());
    }

    public static AppError of(ErrorCode code) {
        return of(code, code.title());
    }

    public static AppError validation(List<FieldError> errors) {
        return new AppError(
                ErrorCode.VALIDATION_FAILED,
                "One or more fields are invalid",
                errors,
                Optional.empty(),
                Optional.empty());
    }

    public static AppError retryAfter(ErrorCode code, String detail, long seconds) {
        return new AppError(code, detail, List.of(), Optional.of(Math.max(1, seconds)), Optional.empty());
    }

    /**
     * A rate-limited refusal (429): {@code Retry-After} and the {@code RateLimit-*} headers the
     * contract requires on every rate-limited answer. Nothing is left, and the window resets no
     * sooner than the client may retry.
     */
    public static AppError rateLimited(
            ErrorCode code, String detail, int limit, long retryAfterSeconds, long resetSeconds) {
        long retry = Math.max(1, retryAfterSeconds);
        return new AppError(
                code,
                detail,
                List.of(),
                Optional.of(retry),
                Optional.of(new Quota(limit, 0, Math.max(retry, resetSeconds))));
    }

    public static AppError notFound() {
        return of(ErrorCode.NOT_FOUND, "No such resource");
    }

    public ErrorCode code() {
        return code;
    }

    public String detail() {
        return getMessage();
    }

    public List<FieldError> fieldErrors() {
        return fieldErrors;
    }

    public Optional<Long> retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public Optional<Quota> quota() {
        return quota;
    }

    /**
     * What a rate-limited answer carries besides its body, {@code Retry-After} and the
     * {@code RateLimit-*} headers, written by whatever renders the body (a problem or a page).
     */
    public void putLimitHeadersOn(io.vertx.core.http.HttpServerResponse response) {
        retryAfterSeconds.ifPresent(s -> response.putHeader("Retry-After", Long.toString(s)));
        quota.ifPresent(q -> q.putOn(response));
    }
}
