package uk.co.tradersflow.email;

import java.util.regex.Pattern;

/** Header values are ours to keep clean: no CR, LF or other control characters, bounded length. */
final class MailHeaders {
    private static final Pattern ADDRESS =
            Pattern.compile("^[^@\\s\\p{Cntrl}<>,;\"]{1,64}@[^@\\s\\p{Cntrl}<>,;\"]{1,253}$");

    /** Our id of the message (the outbox row), on every email; webhooks and tests find rows by it. */
    static final String TF_MESSAGE_ID = "X-TF-Message-Id";

    private MailHeaders() {}

    static String clean(String value, int max) {
        String cleaned = value.replaceAll("[\\p{Cntrl}]+", " ").strip();
        return cleaned.length() > max ? cleaned.substring(0, max) : cleaned;
    }

    static boolean isSafeAddress(String address) {
        return ADDRESS.matcher(address).matches();
    }
}
