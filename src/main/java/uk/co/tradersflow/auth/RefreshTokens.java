package uk.co.tradersflow.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import uk.co.tradersflow.platform.crypto.HmacSha256;
import uk.co.tradersflow.platform.crypto.Sha256;

/**
 * A session's refresh token: the session, the generation it stands for, the session's secret, and
 * an HMAC over the three under a key of its own derived from the URL-signing key (the root of the
 * server's other signed values: file URLs, emailed links, device tokens). The session row keeps
 * its current generation and its secret's SHA-256, so a refresh writes one row, and every earlier
 * generation is still recognised for what it is: spent.
 *
 * <p>Each part answers one attacker. The secret (256 random bits, drawn at sign-in, the same for
 * every generation) is what a copy of the database lacks: it holds only its hash. The MAC is what a
 * holder of an old token lacks: with the secret alone they could name any generation, probe
 * downwards from a high one and land on the current without ever presenting a spent one. Whoever
 * holds the key needs a token of the session too. A new {@code TF_URL_SIGNING_KEY} refuses every
 * token made under the old one (everyone signs in again).
 *
 * <p>Tokens of the first format (a random value whose hash is a {@code refresh_tokens} row) have
 * the same prefix and a shorter body ({@link #isOfTheFirstForm}); {@link #read} answers empty for
 * them. Public for the load test's seed, which makes sessions' tokens as the server does.
 */
public final class RefreshTokens {
    static final String PREFIX = "tfr_";
    private static final byte VERSION = 2;
    static final int SECRET_BYTES = 32;
    private static final int MAC_BYTES = 32;
    private static final int SIGNED_BYTES = 1 + 16 + 8 + SECRET_BYTES;
    private static final int BODY_BYTES = SIGNED_BYTES + MAC_BYTES;
    /** Base64url of {@link #BODY_BYTES} bytes without padding. */
    private static final int TEXT_LENGTH = PREFIX.length() + (BODY_BYTES * 8 + 5) / 6;
    /** {@link SecretTokens#generate}: the prefix and 32 random bytes in base64url. */
    private static final int FIRST_FORM_LENGTH = PREFIX.length() + 43;

    /** A genuine token's session, generation and the session's secret. */
    public record Presented(UUID sessionId, long generation, byte[] secret) {
        /** What the session row keeps of the secret. */
        public byte[] secretHash() {
            return RefreshTokens.secretHash(secret);
        }

        @Override
        public String toString() {
            return "Presented[session=" + sessionId + ", generation=" + generation + "]";
        }
    }

    private final byte[] key;

    public RefreshTokens(byte[] urlSigningKey) {
        this.key = HmacSha256.derive(urlSigningKey, "tradersflow refresh tokens v2");
    }

    /** A new session's secret. */
    public static byte[] newSecret() {
        return SecretTokens.random256();
    }

    /** What the session row keeps of a secret. */
    public static byte[] secretHash(byte[] secret) {
        return Sha256.of(secret);
    }

    public String mint(UUID sessionId, long generation, byte[] secret) {
        if (secret.length != SECRET_BYTES || generation < 0) {
            throw new IllegalArgumentException("a refresh token needs a 32-byte secret and a generation from 0");
        }
        ByteBuffer body = ByteBuffer.allocate(BODY_BYTES);
        body.put(VERSION)
                .putLong(sessionId.getMostSignificantBits())
                .putLong(sessionId.getLeastSignificantBits())
                .putLong(generation)
                .put(secret);
        body.put(HmacSha256.of(key, Arrays.copyOf(body.array(), SIGNED_BYTES)));
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(body.array());
    }

    /** The parts of a token made by {@link #mint} under this key; empty otherwise. */
    Optional<Presented> read(String token) {
        if (token == null || token.length() != TEXT_LENGTH || !token.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String text = token.substring(PREFIX.length());
        byte[] body;
        try {
            body = Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException notBase64) {
            return Optional.empty();
        }
        // One spelling only: the last character's two unused bits would let altered texts decode the same.
        if (body.length != BODY_BYTES
                || body[0] != VERSION
                || !Base64.getUrlEncoder().withoutPadding().encodeToString(body).equals(text)) {
            return Optional.empty();
        }
        byte[] mac = Arrays.copyOfRange(body, SIGNED_BYTES, BODY_BYTES);
        if (!MessageDigest.isEqual(HmacSha256.of(key, Arrays.copyOf(body, SIGNED_BYTES)), mac)) {
            return Optional.empty();
        }
        ByteBuffer fields = ByteBuffer.wrap(body, 1, 24);
        UUID session = new UUID(fields.getLong(), fields.getLong());
        long generation = fields.getLong();
        byte[] secret = Arrays.copyOfRange(body, 25, SIGNED_BYTES);
        return generation < 0 ? Optional.empty() : Optional.of(new Presented(session, generation, secret));
    }

    /** A token shaped as those issued before sessions kept their generation (sql/V049): its row decides. */
    static boolean isOfTheFirstForm(String token) {
        return token != null && token.length() == FIRST_FORM_LENGTH && token.startsWith(PREFIX);
    }
}
