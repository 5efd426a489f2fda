package uk.co.tradersflow.error;

/** One invalid field of a request body, reported in a problem's {@code errors} list. */
public record FieldError(String field, String message) {}
