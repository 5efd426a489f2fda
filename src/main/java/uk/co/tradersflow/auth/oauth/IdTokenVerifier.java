package uk.co.tradersflow.auth.oauth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import uk.co.tradersflow.platform.crypto.Sha256;
import uk.co.tradersflow.platform.log.LogText;

/**
 * Verifies a provider's ID token with Nimbus JOSE+JWT: a JWS signed with RS256 (or ES256, when the
 * provider's key is an EC one) by the key its {@code kid} names in the provider's current key set;
 * then {@code iss} (one of the provider's), {@code aud} (one of the configured client ids),
 * {@code exp} (at most 60 s past), {@code iat} (not in the future, the same 60 s allowed for clock
 * skew), {@code nbf} if present, a subject, and, when the client sent one, the nonce: the token's
 * is the client's or its SHA-256 in hex (Apple's convention). The claims are read only after the
 * signature holds. Anything else is an {@link IdTokenRejected} naming the reason (for the log;
 * never the token).
 */
final class IdTokenVerifier {
    static final Set<JWSAlgorithm> ACCEPTED = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);
    static final Duration LEEWAY = Duration.ofSeconds(60);

    /** A refused token, with why. */
    static final class IdTokenRejected extends RuntimeException {
        IdTokenRejected(String reason) {
            super(reason, null, false, false);
        }

        String reason() {
            return getMessage();
        }
    }

    private final Clock clock;

    IdTokenVerifier(Clock clock) {
        this.clock = clock;
    }

    /**
     * The subject a token claims, read without checking anything: only to choose the user and the
     * lockout count the attempt is judged under before it is verified. Empty when there is none.
     */
    static Optional<String> claimedSubject(String idToken) {
        try {
            String subject = SignedJWT.parse(idToken).getJWTClaimsSet().getSubject();
            return usableSubject(subject) ? Optional.of(subject) : Optional.empty();
        } catch (ParseException | RuntimeException e) {
            return Optional.empty();
        }
    }

    Future<IdToken> verify(Provider provider, String idToken, Optional<String> nonce) {
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(idToken);
        } catch (ParseException | RuntimeException e) {
            // An unsecured ("alg": "none") token fails here too: Nimbus parses it as no JWS.
            return rejected("not a signed JWT");
        }
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (!ACCEPTED.contains(alg)) {
            return rejected("algorithm " + LogText.printable(alg.getName()) + " is not accepted");
        }
        String kid = jwt.getHeader().getKeyID();
        if (kid == null || kid.isEmpty()) {
            return rejected("no key id");
        }
        return provider.keys().key(kid).compose(key -> {
            if (key.isEmpty()) {
                return rejected("unknown key id " + LogText.printable(kid));
            }
            try {
                return Future.succeededFuture(
                        IdToken.of(processor(provider, key.get(), nonce).process(jwt, null)));
            } catch (BadJOSEException | JOSEException | RuntimeException e) {
                return rejected(LogText.printable(e.getMessage()));
            }
        });
    }

    /** Verifies the signature with the one key named (of the types the algorithm calls for), then the claims. */
    private DefaultJWTProcessor<SecurityContext> processor(Provider provider, JWK key, Optional<String> nonce) {
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ACCEPTED, new ImmutableJWKSet<>(new JWKSet(key))));
        processor.setJWTClaimsSetVerifier((claims, context) -> checkClaims(provider, claims, nonce));
        return processor;
    }

    private void checkClaims(Provider provider, JWTClaimsSet claims, Optional<String> nonce) throws BadJWTException {
        Instant now = clock.instant();
        String issuer = claims.getIssuer();
        if (issuer == null || !provider.issuers().contains(issuer)) {
            throw new BadJWTException("issuer " + LogText.printable(issuer) + " is not " + provider.name() + "'s");
        }
        if (claims.getAudience().stream().noneMatch(provider.clientIds()::contains)) {
            throw new BadJWTException("audience " + LogText.printable(String.valueOf(claims.getAudience()))
                    + " names none of the client ids");
        }
        Date expires = claims.getExpirationTime();
        if (expires == null) {
            throw new BadJWTException("no expiry");
        }
        if (now.isAfter(expires.toInstant().plus(LEEWAY))) {
            throw new BadJWTException("expired at " + expires.toInstant());
        }
        Date issued = claims.getIssueTime();
        if (issued == null) {
            throw new BadJWTException("no issue time");
        }
        if (issued.toInstant().isAfter(now.plus(LEEWAY))) {
            throw new BadJWTException("issued in the future, at " + issued.toInstant());
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && notBefore.toInstant().isAfter(now.plus(LEEWAY))) {
            throw new BadJWTException("not valid before " + notBefore.toInstant());
        }
        if (!usableSubject(claims.getSubject())) {
            throw new BadJWTException("no usable subject");
        }
        if (nonce.isPresent()) {
            Object claimed = claims.getClaim("nonce");
            if (!(claimed instanceof String tokenNonce)) {
                throw new BadJWTException("no nonce, and the client sent one");
            }
            if (!same(tokenNonce, nonce.get()) && !same(tokenNonce, sha256Hex(nonce.get()))) {
                throw new BadJWTException("nonce does not match");
            }
        }
    }

    private static boolean usableSubject(String subject) {
        return subject != null && !subject.isBlank() && subject.length() <= 255;
    }

    private static boolean same(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256Hex(String text) {
        return HexFormat.of().formatHex(Sha256.of(text));
    }

    private static <T> Future<T> rejected(String reason) {
        return Future.failedFuture(new IdTokenRejected(reason));
    }
}
