package uk.co.tradersflow.platform.log;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes credentials from text bound for the logs: bearer tokens, JWTs, Stripe and webhook
 * secrets, private keys, password-like fields and secret query parameters. It runs inside the
 * logging setup, so a careless log call elsewhere still cannot leak one.
 */
public final class Redactor {
  private record Rule(Pattern pattern, String replacement) {}

  private static final List<Rule> RULES = List.of(
      new Rule(Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----"), "[REDACTED PRIVATE KEY]"),
      new Rule(Pattern.compile("(?i)(bearer|basic)\\s+[A-Za-z0-9._~+/=-]{8,}"), "$1 [REDACTED]"),
      new Rule(Pattern.compile("eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*"), "[REDACTED JWT]"),
      new Rule(Pattern.compile("\\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{8,}"), "$1_$2_[REDACTED]"),
      new Rule(Pattern.compile("\\bwhsec_[A-Za-z0-9+/=_-]{4,}"), "whsec_[REDACTED]"),
      new Rule(Pattern.compile("\\btfr_[A-Za-z0-9_-]{8,}"), "tfr_[REDACTED]"),
      new Rule(Pattern.compile("\\btfd_[A-Za-z0-9._-]{8,}"), "tfd_[REDACTED]"),
      new Rule(Pattern.compile("(?i)([?&;](?:token|signature|sig|code|key)=)[^&\\s\"']+"), "$1[REDACTED]"),
      new Rule(Pattern.compile("(?i)(\"?(?:password|passwd|newPassword|currentPassword|secret|token|accessToken|refreshToken|"
          + "deviceToken|idToken|apiKey|api_key|authorization|client_secret|confirmationToken)\"?\\s*[:=]\\s*)(\"[^\"]*\"|[^\\s,&}]+)"),
          "$1\"[REDACTED]\""),
      new Rule(Pattern.compile("(?i)(postgres(?:ql)?://[^:/@\\s]+:)[^@\\s]+@"), "$1[REDACTED]@"),
      new Rule(Pattern.compile("(?i)(redis(?:s)?://[^:/@\\s]*:)[^@\\s]+@"), "$1[REDACTED]@"));

  private Redactor() {}

  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (Rule rule : RULES) {
      Matcher m = rule.pattern().matcher(out);
      if (m.find()) {
        out = m.replaceAll(rule.replacement());
      }
    }
    return out;
  }
}
