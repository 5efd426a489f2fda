package uk.co.tradersflow.storage;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Files as clients send them: real leading bytes of each type, then filler of any size. */
final class SampleFiles {
    static final String SECRET_TEXT = "Alarm code 4321 for Mrs Patel at 12 Acacia Avenue";

    private SampleFiles() {}

    static byte[] jpeg(int size) {
        return withHead(
                size, new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0});
    }

    static byte[] png(int size) {
        return withHead(
                size, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
    }

    static byte[] webp(int size) {
        return withHead(size, ascii("RIFF\u0000\u0000\u0000\u0000WEBPVP8 "));
    }

    static byte[] heic(int size) {
        return withHead(size, new byte[] {
            0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0, 'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'
        });
    }

    /** A PDF whose body repeats a sentence that must never appear on disk. */
    static byte[] pdf(int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.writeBytes(ascii("%PDF-1.7\n"));
        byte[] line = ascii(SECRET_TEXT + "\n");
        while (out.size() + line.length <= size) {
            out.writeBytes(line);
        }
        while (out.size() < size) {
            out.write('\n');
        }
        return out.toByteArray();
    }

    static byte[] html() {
        return ascii("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>");
    }

    private static byte[] withHead(int size, byte[] head) {
        byte[] bytes = new byte[Math.max(size, head.length)];
        new Random(size).nextBytes(bytes);
        System.arraycopy(head, 0, bytes, 0, head.length);
        return bytes;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
