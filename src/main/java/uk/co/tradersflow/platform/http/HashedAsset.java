package uk.co.tradersflow.platform.http;

import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import uk.co.tradersflow.platform.crypto.Sha256;

/**
 * A static file our own pages serve (a script, a stylesheet), read once from the class path and
 * served under a name that carries a hash of its content, so it may be cached for ever: a new
 * release is a new name.
 */
public record HashedAsset(String path, Buffer body, String contentType) {
    /**
     * The resource {@code resourceDir/name.extension}, served as {@code urlPrefix + name.<hash>.extension}.
     */
    public static HashedAsset load(
            String resourceDir, String urlPrefix, String name, String extension, String contentType) {
        String resource = resourceDir + name + "." + extension;
        try (InputStream in = HashedAsset.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            byte[] bytes = in.readAllBytes();
            String hash = HexFormat.of().formatHex(Sha256.of(bytes)).substring(0, 16);
            return new HashedAsset(urlPrefix + name + "." + hash + "." + extension, Buffer.buffer(bytes), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
