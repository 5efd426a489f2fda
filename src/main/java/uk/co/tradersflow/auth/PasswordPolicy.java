package uk.co.tradersflow.auth;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;

/**
 * The contract's password rule: 10 to 128 characters and not one of the 20,000 most common
 * passwords of that length (compared without case). Loads its list once, from the classpath:
 * construct it off the event loop.
 */
public final class PasswordPolicy {
    private final Set<String> common = new HashSet<>();

    public PasswordPolicy() {
        try (var in = PasswordPolicy.class.getResourceAsStream("/auth/common-passwords.txt");
                var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            reader.lines().filter(l -> !l.startsWith("#")).forEach(l -> common.add(l.toLowerCase(Locale.ROOT)));
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the bundled common-password list is missing", e);
        }
    }

    public int size() {
        return common.size();
    }

    /** Fails with 422 {@code weak_password} when the password breaks the rule. */
    public void requireStrong(String password) {
        problem(password).ifPresent(problem -> {
            throw AppError.of(ErrorCode.WEAK_PASSWORD, "The password " + problem);
        });
    }

    /** Why the password is refused, if it is. */
    public Optional<String> problem(String password) {
        int length = password.codePointCount(0, password.length());
        if (length < 10 || length > 128) {
            return Optional.of("must be 10 to 128 characters");
        }
        if (common.contains(password.toLowerCase(Locale.ROOT))) {
            return Optional.of("is one of the most common passwords; choose another");
        }
        return Optional.empty();
    }
}
