package uk.co.tradersflow.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import uk.co.tradersflow.platform.crypto.Es256Signer;
import uk.co.tradersflow.support.ServerExtension;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * One token has one spelling: every other string that a lenient decoder or ECDSA's symmetry
 * would map to the same signed claims is refused, even after the real token has been verified
 * (and cached) once.
 */
class AccessTokenMalleabilityTest {
    static final String ROUTE = "/api/v1/customers";
    /** The order of P-256's base point. */
    static final BigInteger N = new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);

    static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static TestServer server;
    static TestUsers users;

    @RegisterExtension
    static final ServerExtension lifecycle =
            ServerExtension.withDefaults().then(s -> server = s).then(s -> users = new TestUsers(s));

    private static HttpResponse<Buffer> withHeader(String authorization) {
        return TestServer.await(server.request(HttpMethod.GET, ROUTE)
                .putHeader("Authorization", authorization)
                .send());
    }

    private static void assertRefused(String token, String what) {
        HttpResponse<Buffer> r = withHeader("Bearer " + token);
        assertThat(r.statusCode()).as(what).isEqualTo(401);
        assertThat(r.bodyAsJsonObject().getString("code")).as(what).isEqualTo("invalid_token");
    }

    /** A signed-in user whose token has just been accepted, so it sits in the verified-token cache. */
    private static TestUser acceptedUser() {
        TestUser u = users.create();
        assertThat(withHeader("Bearer " + u.token()).statusCode()).isEqualTo(200);
        return u;
    }

    @Test
    void aCharacterAppendedToTheTokenIsRefused() {
        TestUser u = acceptedUser();
        for (String extra : new String[] {"A", "AA", "AAAA", "_", "."}) {
            assertRefused(u.token() + extra, "token + " + extra);
        }
    }

    @Test
    void base64PaddingOnAnyPartIsRefused() {
        TestUser u = acceptedUser();
        String[] parts = u.token().split("\\.");
        assertRefused(u.token() + "=", "signature + =");
        assertRefused(u.token() + "==", "signature + ==");
        for (int i = 0; i < 2; i++) {
            String[] padded = parts.clone();
            padded[i] = padded[i] + "=";
            assertRefused(String.join(".", padded), "part " + i + " + =");
        }
    }

    @Test
    void everyOtherLastSignatureCharacterDecodingToTheSameBytesIsRefused() {
        TestUser u = acceptedUser();
        String token = u.token();
        String head = token.substring(0, token.length() - 1);
        byte[] signature = Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
        int variants = 0;
        for (char c : ALPHABET.toCharArray()) {
            String other = head + c;
            if (other.equals(token)) {
                continue;
            }
            byte[] decoded = Base64.getUrlDecoder().decode(other.substring(other.lastIndexOf('.') + 1));
            if (Arrays.equals(decoded, signature)) {
                variants++;
                assertRefused(other, "last character " + c);
            }
        }
        // 64 bytes take 86 characters whose last 4 bits are unused: 15 other spellings.
        assertThat(variants).isEqualTo(15);
    }

    @Test
    void theHighSTwinOfAValidSignatureIsRefused() {
        TestUser u = acceptedUser();
        int dot = u.token().lastIndexOf('.');
        byte[] signature = Base64.getUrlDecoder().decode(u.token().substring(dot + 1));
        BigInteger s = new BigInteger(1, Arrays.copyOfRange(signature, 32, 64));
        assertThat(s).as("minted low-S").isLessThanOrEqualTo(N.shiftRight(1));
        System.arraycopy(Es256Signer.fixed32(N.subtract(s)), 0, signature, 32, 32);
        String twin = u.token().substring(0, dot + 1)
                + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
        assertRefused(twin, "high-S twin");
    }

    @Test
    void everyMintedTokenHasALowSSoItIsAccepted() {
        AccessTokens tokens = server.main.accessTokens();
        for (int i = 0; i < 64; i++) {
            String token = tokens.mint(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), Optional.empty());
            byte[] signature = Base64.getUrlDecoder().decode(token.substring(token.lastIndexOf('.') + 1));
            assertThat(new BigInteger(1, Arrays.copyOfRange(signature, 32, 64))).isLessThanOrEqualTo(N.shiftRight(1));
            assertThat(TestServer.await(tokens.verify(token)).expiresAt()).isAfter(java.time.Instant.now());
        }
    }

    @Test
    void aStandardAlphabetOrWhitespaceInsideTheTokenIsRefused() {
        TestUser u = acceptedUser();
        String token = u.token();
        assertRefused(
                token.replace('-', '+').replace('_', '/') + (token.contains("-") || token.contains("_") ? "" : "+"),
                "standard alphabet");
        int dot = token.indexOf('.');
        assertRefused(token.substring(0, dot) + " ." + token.substring(dot + 1), "space inside");
    }
}
