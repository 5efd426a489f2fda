package uk.co.tradersflow.storage;

import java.util.Optional;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * A single {@code Range: bytes=…} request (RFC 9110 §14.1.2): {@code a-b}, {@code a-} or the
 * suffix {@code -n}. Several ranges, other units or a malformed header are ignored and the whole
 * file is served, as the RFC allows; a well-formed range that starts past the end is 416.
 */
record ByteRange(long first, long last) {

    long length() {
        return last - first + 1;
    }

    /** Empty for "send the whole file"; throws the 416 for an unsatisfiable range. */
    static Optional<ByteRange> parse(String header, long size) {
        if (header == null || !header.regionMatches(true, 0, "bytes=", 0, 6) || header.indexOf(',') >= 0) {
            return Optional.empty();
        }
        String spec = header.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return Optional.empty();
        }
        try {
            String from = spec.substring(0, dash);
            String to = spec.substring(dash + 1);
            if (from.isEmpty()) {
                long suffix = digits(to);
                if (suffix == 0 || size == 0) {
                    throw unsatisfiable(size);
                }
                return Optional.of(new ByteRange(Math.max(0, size - suffix), size - 1));
            }
            long first = digits(from);
            if (first >= size) {
                throw unsatisfiable(size);
            }
            long last = to.isEmpty() ? size - 1 : digits(to);
            if (last < first) {
                return Optional.empty();
            }
            return Optional.of(new ByteRange(first, Math.min(last, size - 1)));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Digits only; a position too long for a long is past the end of any file, so it saturates. */
    private static long digits(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new NumberFormatException(s);
        }
        return s.length() > 18 ? Long.MAX_VALUE : Long.parseLong(s);
    }

    private static AppError unsatisfiable(long size) {
        return AppError.of(ErrorCode.RANGE_NOT_SATISFIABLE, "The file is " + size + " bytes long");
    }
}
