package uk.co.tradersflow.console;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The console's cookie {@code __Host-tf_admin}: an AES-256-GCM sealed reference to a server
 * session (a row of {@code sessions}, opened by the same sign-in as the API's), the form token
 * of that session, and when it was opened and last used. The session row is the authority:
 * signing out, signing out everywhere, suspension and leaving the allow-list end the console at
 * once because every request re-reads the row's state and runs the owner gate. The cookie adds
 * the console's own limits, 30 minutes idle and 8 hours in all, which no client can stretch:
 * it cannot forge or alter a sealed value. The idle limit is also the servers' own record
 * ({@link ConsoleIdle}): a cookie that still reads as live is refused once no instance has seen
 * its session used for 30 minutes.
 */
final class ConsoleCookie {
    static final String NAME = "__Host-tf_admin";
    static final Duration IDLE = Duration.ofMinutes(30);
    static final Duration ABSOLUTE = Duration.ofHours(8);
    private static final byte[] PURPOSE = "tf-admin-console-cookie".getBytes(StandardCharsets.UTF_8);

    /** What the cookie carries: the session row, the synchronizer token, the two clocks. */
    record Value(UUID sessionId, String csrf, Instant openedAt, Instant lastSeenAt) {
        boolean liveAt(Instant now) {
            return now.isBefore(openedAt.plus(ABSOLUTE)) && now.isBefore(lastSeenAt.plus(IDLE));
        }

        Value seenAt(Instant now) {
            return new Value(sessionId, csrf, openedAt, now);
        }
    }

    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();

    ConsoleCookie(byte[] dataKey) {
        try {
            // A key of its own, derived from the data key, so a cookie never opens as another sealed value.
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(dataKey, "HmacSHA256"));
            this.key = new SecretKeySpec(mac.doFinal(PURPOSE), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    Value open(UUID sessionId, Instant now) {
        byte[] token = new byte[32];
        random.nextBytes(token);
        return new Value(sessionId, Base64.getUrlEncoder().withoutPadding().encodeToString(token), now, now);
    }

    String seal(Value v) {
        byte[] plain = new JsonObject()
                .put("s", v.sessionId().toString())
                .put("c", v.csrf())
                .put("o", v.openedAt().toEpochMilli())
                .put("l", v.lastSeenAt().toEpochMilli())
                .toBuffer()
                .getBytes();
        try {
            byte[] nonce = new byte[12];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
            cipher.updateAAD(PURPOSE);
            byte[] sealed = cipher.doFinal(plain);
            byte[] out = Arrays.copyOf(nonce, 12 + sealed.length);
            System.arraycopy(sealed, 0, out, 12, sealed.length);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cookie's value if it is one of ours, unaltered; empty for anything else. */
    Optional<Value> unseal(String text) {
        try {
            byte[] in = Base64.getUrlDecoder().decode(text);
            if (in.length < 12 + 16) {
                return Optional.empty();
            }
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, in, 0, 12));
            cipher.updateAAD(PURPOSE);
            JsonObject json =
                    new JsonObject(new String(cipher.doFinal(in, 12, in.length - 12), StandardCharsets.UTF_8));
            return Optional.of(new Value(
                    UUID.fromString(json.getString("s")),
                    json.getString("c"),
                    Instant.ofEpochMilli(json.getLong("o")),
                    Instant.ofEpochMilli(json.getLong("l"))));
        } catch (GeneralSecurityException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The Set-Cookie header: host-only, HTTPS only, out of scripts' reach, never sent cross-site. */
    static String header(String sealed) {
        return NAME + "=" + sealed + "; Path=/; Secure; HttpOnly; SameSite=Strict";
    }

    static String cleared() {
        return NAME + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
    }
}
