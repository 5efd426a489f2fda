package uk.co.tradersflow.error;

import java.util.List;
import java.util.Optional;

/**
 * The one failure type that crosses layers. Whatever throws or fails a future with it decides
 * what the client sees; {@link ProblemResponder} is the only place that turns it into HTTP.
 * The detail is shown to clients, so it must never carry secrets, SQL or internal names.
 */
public final class AppError extends RuntimeException {
  private final ErrorCode code;
  private final List<FieldError> fieldErrors;
  private final Optional<Long> retryAfterSeconds;

  private AppError(ErrorCode code, String detail, List<FieldError> fieldErrors, Optional<Long> retryAfterSeconds) {
    super(detail, null, false, false);
    this.code = code;
    this.fieldErrors = List.copyOf(fieldErrors);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static AppError of(ErrorCode code, String detail) {
    return new AppError(code, detail, List.of(), Optional.empty());
  }

  public static AppError of(ErrorCode code) {
    return of(code, code.title());
  }

  public static AppError validation(List<FieldError> errors) {
    return new AppError(ErrorCode.VALIDATION_FAILED, "One or more fields are invalid", errors, Optional.empty());
  }

  public static AppError retryAfter(ErrorCode code, String detail, long seconds) {
    return new AppError(code, detail, List.of(), Optional.of(Math.max(1, seconds)));
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
}
