package uk.co.tradersflow.auth.oauth;

import com.nimbusds.jwt.JWTClaimsSet;
import java.util.Optional;
import uk.co.tradersflow.auth.EmailAddress;

/**
 * What a verified ID token says about its user: the provider's subject (stable for the user,
 * whatever their address), the address it shares (if it is one an account may hold), whether the
 * provider verified it (Google sends a boolean, Apple a boolean or the string "true"), and whether
 * it is an Apple private-relay address.
 */
record IdToken(String subject, Optional<EmailAddress> email, boolean emailVerified, boolean privateEmail) {
    static IdToken of(JWTClaimsSet claims) {
        Object email = claims.getClaim("email");
        Optional<EmailAddress> address = email instanceof String text && text.length() <= 254
                ? Optional.of(EmailAddress.of(text)).filter(EmailAddress::wellFormed)
                : Optional.empty();
        return new IdToken(
                claims.getSubject(),
                address,
                isTrue(claims.getClaim("email_verified")),
                isTrue(claims.getClaim("is_private_email")));
    }

    private static boolean isTrue(Object claim) {
        return Boolean.TRUE.equals(claim) || (claim instanceof String s && "true".equalsIgnoreCase(s.strip()));
    }

    @Override
    public String toString() {
        return "IdToken[]";
    }
}
