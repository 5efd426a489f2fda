package uk.co.tradersflow.platform.log;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes credentials from text bound for the logs: bearer tokens, JWTs, Stripe and webhook
 * secrets, private keys, password-like fields and secret query parameters. It runs inside the
 * logging setup, so a careless log call elsewhere still cannot leak one.
 *
 * <p>Every line the server logs passes through here (one per request at least), so each rule
 * names the words without which its pattern cannot match, and its pattern runs only on text that
 * contains one of them. The words are lower case and checked against the lower-cased text: the
 * patterns' {@code (?i)} is ASCII-only, so whatever they match contains one of the words there.
 */
public final class Redactor {
    record Rule(Pattern pattern, String replacement, List<String> needs) {
        boolean mightMatch(String lowerCased) {
            for (String word : needs) {
                if (lowerCased.contains(word)) {
                    return true;
                }
            }
            return false;
        }
    }

    static final List<Rule> RULES = List.of(
            new Rule(
                    Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
                    "[REDACTED PRIVATE KEY]",
                    List.of("-----begin ")),
            new Rule(
                    Pattern.compile("(?i)(bearer|basic)\\s+[A-Za-z0-9._~+/=-]{8,}"),
                    "$1 [REDACTED]",
                    List.of("bearer", "basic")),
            new Rule(
                    Pattern.compile("eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*"),
                    "[REDACTED JWT]",
                    List.of("eyj")),
            new Rule(
                    Pattern.compile("\\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{8,}"),
                    "$1_$2_[REDACTED]",
                    List.of("_live_", "_test_")),
            new Rule(Pattern.compile("\\bwhsec_[A-Za-z0-9+/=_-]{4,}"), "whsec_[REDACTED]", List.of("whsec_")),
            new Rule(Pattern.compile("\\btfr_[A-Za-z0-9_-]{8,}"), "tfr_[REDACTED]", List.of("tfr_")),
            new Rule(Pattern.compile("\\btfd_[A-Za-z0-9._-]{8,}"), "tfd_[REDACTED]", List.of("tfd_")),
            new Rule(Pattern.compile("\\btfc_[A-Za-z0-9_-]{8,}"), "tfc_[REDACTED]", List.of("tfc_")),
            new Rule(
                    Pattern.compile("(?i)([?&;](?:token|signature|sig|code|key)=)[^&\\s\"']+"),
                    "$1[REDACTED]",
                    List.of("token=", "sig=", "signature=", "code=", "key=")),
            new Rule(
                    Pattern.compile(
                            "(?i)(\"?(?:password|passwd|newPassword|currentPassword|secret|token|accessToken|refreshToken|"
                                    + "deviceToken|idToken|apiKey|api_key|authorization|client_secret|confirmationToken)\"?\\s*[:=]\\s*)(\"[^\"]*\"|[^\\s,&}]+)"),
                    "$1\"[REDACTED]\"",
                    List.of("passw", "secret", "token", "apikey", "api_key", "authorization")),
            new Rule(
                    Pattern.compile("(?i)(postgres(?:ql)?://[^:/@\\s]+:)[^@\\s]+@"),
                    "$1[REDACTED]@",
                    List.of("postgres")),
            new Rule(Pattern.compile("(?i)(redis(?:s)?://[^:/@\\s]*:)[^@\\s]+@"), "$1[REDACTED]@", List.of("redis")));

    private Redactor() {}

    public static String redact(String text) {
        return redact(text, true);
    }

    /** Every pattern on every text, word checks skipped: what {@link #redact} must always equal. */
    static String redactWithoutWordChecks(String text) {
        return redact(text, false);
    }

    private static String redact(String text, boolean checkWords) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        // The replacements add no needed word, so the original's lower-cased form serves every rule.
        String lowerCased = checkWords ? text.toLowerCase(Locale.ROOT) : null;
        for (Rule rule : RULES) {
            if (checkWords && !rule.mightMatch(lowerCased)) {
                continue;
            }
            Matcher m = rule.pattern().matcher(out);
            if (m.find()) {
                out = m.replaceAll(rule.replacement());
            }
        }
        return out;
    }
}
