package uk.co.tradersflow.storage;

import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import io.vertx.core.http.HttpServerRequest;
import java.lang.reflect.Field;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the bytes Netty's multipart decoder keeps per request. The decoder appends every body
 * chunk to one buffer and hands the file part out as slices of it; it only drops the bytes
 * already handed out once that buffer passes its discard threshold, 10 MiB by default. So each
 * upload, however well paused, held 10-16 MiB of heap: ten concurrent uploads grew the heap by
 * about 160 MiB (issue 21 asks for under 16 MiB). Vert.x creates the decoder in
 * {@code setExpectMultipart(true)} and offers no option for the threshold, so this finds the
 * decoder on the request (through Vert.x Web's wrapper) and lowers it.
 *
 * <p>If a Vert.x upgrade renames the fields, uploads keep working exactly as before, only with
 * the old memory cost; {@code UploadHeapTest} then fails, which is the signal to revisit this.
 */
final class MultipartBuffering {
    /** Bytes already decoded are dropped once the decoder's buffer has grown past this. */
    static final int DISCARD_THRESHOLD = 128 * 1024;

    private static final Logger log = LoggerFactory.getLogger(MultipartBuffering.class);
    private static volatile boolean warned;

    private MultipartBuffering() {}

    /** Call right after {@code request.setExpectMultipart(true)}, on the request's event loop. */
    static void bound(HttpServerRequest request) {
        Optional<HttpPostRequestDecoder> decoder = decoderOf(request);
        if (decoder.isPresent()) {
            decoder.get().setDiscardThreshold(DISCARD_THRESHOLD);
        } else if (!warned) {
            warned = true;
            log.warn(
                    "could not reach the multipart decoder of {}: uploads buffer up to 10 MiB each",
                    request.getClass().getName());
        }
    }

    static Optional<HttpPostRequestDecoder> decoderOf(Object request) {
        Object current = request;
        for (int depth = 0; current != null && depth < 4; depth++) {
            Object next = null;
            for (Class<?> c = current.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    try {
                        if (HttpPostRequestDecoder.class.isAssignableFrom(f.getType())) {
                            f.setAccessible(true);
                            return Optional.ofNullable((HttpPostRequestDecoder) f.get(current));
                        }
                        if (next == null
                                && f.getName().equals("delegate")
                                && HttpServerRequest.class.isAssignableFrom(f.getType())) {
                            f.setAccessible(true);
                            next = f.get(current);
                        }
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        return Optional.empty();
                    }
                }
            }
            current = next;
        }
        return Optional.empty();
    }
}
