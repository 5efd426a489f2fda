package uk.co.tradersflow.storage;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * The file types we store, decided by their first bytes, never by the name or the declared
 * content type: a client can lie about both, and a browser or viewer that trusts the type we
 * serve must get what it was told. Anything else (HTML, SVG, scripts, archives) is refused.
 */
public enum FileType {
    JPEG("image/jpeg", "jpg"),
    PNG("image/png", "png"),
    WEBP("image/webp", "webp"),
    HEIC("image/heic", "heic"),
    PDF("application/pdf", "pdf");

    /** Bytes the sniffer wants before it decides; a shorter file is judged on what it has. */
    public static final int HEAD = 64;

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    /** ISO-BMFF brands of HEIF images coded with HEVC (Apple's photos); AVIF and plain MP4 are not HEIC. */
    private static final Set<String> HEIC_BRANDS = Set.of("heic", "heix", "heim", "heis", "hevc", "hevx");

    private static final Set<String> HEIF_GENERIC_BRANDS = Set.of("mif1", "msf1");

    private final String contentType;
    private final String extension;

    FileType(String contentType, String extension) {
        this.contentType = contentType;
        this.extension = extension;
    }

    public String contentType() {
        return contentType;
    }

    public String extension() {
        return extension;
    }

    public static Optional<FileType> fromContentType(String contentType) {
        return Arrays.stream(values())
                .filter(t -> t.contentType.equals(contentType))
                .findFirst();
    }

    /** The type these leading bytes prove, if it is one we accept. */
    public static Optional<FileType> sniff(byte[] head) {
        if (startsWith(head, 0, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF})) {
            return Optional.of(JPEG);
        }
        if (startsWith(head, 0, PNG_SIGNATURE)) {
            return Optional.of(PNG);
        }
        if (startsWith(head, 0, ascii("RIFF")) && startsWith(head, 8, ascii("WEBPVP8"))) {
            return Optional.of(WEBP);
        }
        if (startsWith(head, 0, ascii("%PDF-"))) {
            return Optional.of(PDF);
        }
        return isHeic(head) ? Optional.of(HEIC) : Optional.empty();
    }

    /**
     * HEIC starts with an ISO-BMFF {@code ftyp} box: size (4), "ftyp", the major brand, a minor
     * version, then compatible brands. Generic HEIF major brands count only when an HEVC brand is
     * among the compatible ones (otherwise it may be AVIF or something else entirely).
     */
    private static boolean isHeic(byte[] head) {
        if (head.length < 16 || !startsWith(head, 4, ascii("ftyp"))) {
            return false;
        }
        long boxSize =
                ((head[0] & 0xFFL) << 24) | ((head[1] & 0xFF) << 16) | ((head[2] & 0xFF) << 8) | (head[3] & 0xFF);
        if (boxSize < 16 || boxSize % 4 != 0) {
            return false;
        }
        String major = brand(head, 8);
        if (HEIC_BRANDS.contains(major)) {
            return true;
        }
        if (!HEIF_GENERIC_BRANDS.contains(major)) {
            return false;
        }
        for (int at = 16; at + 4 <= Math.min(boxSize, head.length); at += 4) {
            if (HEIC_BRANDS.contains(brand(head, at))) {
                return true;
            }
        }
        return false;
    }

    private static String brand(byte[] head, int at) {
        return new String(head, at, 4, StandardCharsets.ISO_8859_1);
    }

    private static boolean startsWith(byte[] head, int at, byte[] expected) {
        if (head.length < at + expected.length) {
            return false;
        }
        return Arrays.equals(head, at, at + expected.length, expected, 0, expected.length);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
