package uk.co.tradersflow.platform.log;

/** Text a client chose, made fit for one log line. */
public final class LogText {
    private static final int MAX = 80;

    private LogText() {}

    /**
     * Printable ASCII only (anything else, line breaks included, becomes {@code ?}), at most 80
     * characters: a client cannot forge a log line, nor hand the redactor a page of text to scan.
     */
    public static String printable(String text) {
        if (text == null) {
            return "(none)";
        }
        String head = text.length() > MAX ? text.substring(0, MAX) : text;
        String safe = head.replaceAll("[^\\x20-\\x7e]", "?");
        return text.length() > MAX ? safe + "…" : safe;
    }
}
