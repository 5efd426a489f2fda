package uk.co.tradersflow.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.crypto.HmacSha256;

/**
 * A session's refresh token: the session, the generation it stands for, and an HMAC over both
 * under a key of its own derived from the URL-signing key (the root of the server's other signed
 * values: file URLs, emailed links, device tokens). The session row keeps only its current
 * generation, so a refresh writes one row, and every earlier generation is still recognised for
 * what it is: spent.
 *
 * <p>A copy of the database still cannot be used to sign in: it holds no token, nor anything a
 * token is checked against but the generation. Whoever holds the key and a live session's id can
 * make that session's tokens, as whoever holds the JWT key can make access tokens; a new
 * {@code TF_URL_SIGNING_KEY} refuses every token made under the old one (everyone signs in again).
 *
 * <p>Tokens of the first format (a random value whose hash is a {@code refresh_tokens} row) have
 * the same prefix and a shorter body; {@link #read} answers empty for them. Public for the load
 * test's seed, which makes sessions' tokens as the server does.
 */
public final class RefreshTokens {
    static final String PREFIX = "tfr_";
    private static final byte VERSION = 2;
    private static final int MAC_BYTES = 32;
    private static final int BODY_BYTES = 1 + 16 + 8 + MAC_BYTES;
    /** Base64url of {@link #BODY_BYTES} bytes without padding. */
    private static final int TEXT_LENGTH = PREFIX.length() + (BODY_BYTES * 8 + 5) / 6;

    /** A genuine token's session and generation. */
    public record Presented(UUID sessionId, long generation) {
        @Override
        public String toString() {
            return "Presented[session=" + sessionId + ", generation=" + generation + "]";
        }
    }

    private final byte[] key;

    public RefreshTokens(byte[] urlSigningKey) {
        this.key = HmacSha256.derive(urlSigningKey, "tradersflow refresh tokens v2");
    }

    public String mint(UUID sessionId, long generation) {
        ByteBuffer body = ByteBuffer.allocate(BODY_BYTES);
        body.put(VERSION)
                .putLong(sessionId.getMostSignificantBits())
                .putLong(sessionId.getLeastSignificantBits())
                .putLong(generation);
        body.put(HmacSha256.of(key, signed(body.array())));
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(body.array());
    }

    /** The session and generation of a token made by {@link #mint} under this key; empty otherwise. */
    Optional<Presented> read(String token) {
        if (token == null || token.length() != TEXT_LENGTH || !token.startsWith(PREFIX)) {
            return Optional.empty();
        }
        byte[] body;
        try {
            body = Base64.getUrlDecoder().decode(token.substring(PREFIX.length()));
        } catch (IllegalArgumentException notBase64) {
            return Optional.empty();
        }
        // One spelling only: base64's unused trailing bits would let an altered text decode the same.
        if (body.length != BODY_BYTES
                || body[0] != VERSION
                || !Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString(body)
                        .equals(token.substring(PREFIX.length()))) {
            return Optional.empty();
        }
        byte[] signed = signed(body);
        byte[] mac = java.util.Arrays.copyOfRange(body, BODY_BYTES - MAC_BYTES, BODY_BYTES);
        if (!MessageDigest.isEqual(HmacSha256.of(key, signed), mac)) {
            return Optional.empty();
        }
        ByteBuffer fields = ByteBuffer.wrap(body, 1, 24);
        UUID session = new UUID(fields.getLong(), fields.getLong());
        long generation = fields.getLong();
        return generation < 0 ? Optional.empty() : Optional.of(new Presented(session, generation));
    }

    private static byte[] signed(byte[] body) {
        return java.util.Arrays.copyOf(body, BODY_BYTES - MAC_BYTES);
    }
}
