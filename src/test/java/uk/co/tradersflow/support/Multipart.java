package uk.co.tradersflow.support;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/** A multipart/form-data body built by hand, so tests control every byte a client may send. */
public final class Multipart {
    public static final String BOUNDARY = "tf-test-boundary-7MA4YWxkTrZu0gW";
    public static final String CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY;

    private final Buffer body = Buffer.buffer();

    public Multipart file(String name, String filename, String contentType, byte[] bytes) {
        return part(
                "Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename + "\"\r\n"
                        + "Content-Type: " + contentType + "\r\n",
                bytes);
    }

    public Multipart field(String name, String value) {
        return part(
                "Content-Disposition: form-data; name=\"" + name + "\"\r\n", value.getBytes(StandardCharsets.UTF_8));
    }

    private Multipart part(String headers, byte[] content) {
        body.appendString("--" + BOUNDARY + "\r\n" + headers + "\r\n", "UTF-8")
                .appendBytes(content)
                .appendString("\r\n");
        return this;
    }

    /** The part headers of a file, for tests that stream its content themselves. */
    public static Buffer fileHead(String filename, String contentType) {
        return Buffer.buffer("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + filename + "\"\r\nContent-Type: " + contentType + "\r\n\r\n");
    }

    public static Buffer closing() {
        return Buffer.buffer("\r\n--" + BOUNDARY + "--\r\n");
    }

    public Buffer build() {
        return body.copy().appendString("--" + BOUNDARY + "--\r\n");
    }
}
