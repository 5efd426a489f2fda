package uk.co.tradersflow.auth.oauth;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sign-in provider as configured: its id in routes and rows ({@code google}, {@code apple}), its
 * name for people, the client ids an ID token's {@code aud} must name one of, the issuers its
 * {@code iss} must be one of, and its signing keys.
 */
record Provider(String id, String name, List<String> clientIds, Set<String> issuers, JwksCache keys) {
    static final String GOOGLE = "google";
    static final String APPLE = "apple";
    /** Apple's one issuer (Google's are a setting, TF_GOOGLE_ISSUERS). */
    static final String APPLE_ISSUER = "https://appleid.apple.com";

    /** Every provider the server knows, configured or not, by id: their names, for identities linked before one was switched off. */
    static final Map<String, String> NAMES = Map.of(GOOGLE, "Google", APPLE, "Apple");

    static String nameOf(String id) {
        return NAMES.getOrDefault(id, id);
    }
}
