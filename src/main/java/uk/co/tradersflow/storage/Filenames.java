package uk.co.tradersflow.storage;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;

/**
 * The client's filename is metadata only: the stored blob has a random name. Before it is kept
 * it loses any path (both separators), control and format characters (CR/LF that would break a
 * header, NUL, bidi overrides that disguise "gpj.exe" as "exe.jpg"), quotes and backslashes,
 * leading dots, and anything past 255 characters.
 */
public final class Filenames {
    static final int MAX_LENGTH = 255;

    private Filenames() {}

    /** A safe display name for an upload; never empty (falls back to "document.&lt;ext&gt;"). */
    public static String sanitize(String raw, FileType type) {
        String name = raw == null ? "" : Normalizer.normalize(raw, Normalizer.Form.NFC);
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        StringBuilder kept = new StringBuilder(name.length());
        name.codePoints().filter(Filenames::allowed).forEach(kept::appendCodePoint);
        String cleaned = kept.toString().strip().replaceAll("^[.\\s]+", "");
        if (cleaned.isEmpty()) {
            cleaned = "document." + type.extension();
        }
        if (cleaned.codePointCount(0, cleaned.length()) > MAX_LENGTH) {
            cleaned = cleaned.substring(0, cleaned.offsetByCodePoints(0, MAX_LENGTH));
        }
        return cleaned;
    }

    private static boolean allowed(int c) {
        int kind = Character.getType(c);
        return kind != Character.CONTROL
                && kind != Character.FORMAT
                && kind != Character.SURROGATE
                && kind != Character.UNASSIGNED
                && kind != Character.PRIVATE_USE
                && kind != Character.LINE_SEPARATOR
                && kind != Character.PARAGRAPH_SEPARATOR
                && c != '"'
                && c != '\\'
                && c != '/';
    }

    /**
     * {@code Content-Disposition: attachment} with an ASCII fallback and the RFC 5987 UTF-8 form.
     * The name gets the stored type's extension if it lacks it, so "invoice.jpg" that is really a
     * PDF downloads as "invoice.jpg.pdf" and opens in the right program.
     */
    public static String contentDisposition(String filename, FileType type) {
        String name = filename.toLowerCase(Locale.ROOT).endsWith("." + type.extension())
                        || type == FileType.JPEG
                                && filename.toLowerCase(Locale.ROOT).endsWith(".jpeg")
                ? filename
                : filename + "." + type.extension();
        StringBuilder ascii = new StringBuilder(name.length());
        name.codePoints().forEach(c -> ascii.append(c >= 0x20 && c < 0x7F && c != '%' && c != ';' ? (char) c : '_'));
        return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encode5987(name);
    }

    private static String encode5987(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 'a' && c <= 'z'
                    || c >= 'A' && c <= 'Z'
                    || c >= '0' && c <= '9'
                    || "!#$&+-.^_`|~".indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }
}
