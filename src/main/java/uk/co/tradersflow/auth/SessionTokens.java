package uk.co.tradersflow.auth;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * A session's token pair as the client receives it; {@code deviceToken} (sign-in only) lets this
 * device skip the next lockout and the sign-in alert.
 */
public record SessionTokens(
        UUID sessionId, String accessToken, String refreshToken, Duration accessTtl, Optional<String> deviceToken) {
    static SessionTokens of(SessionIssuer.Issued issued, Duration accessTtl, Optional<String> deviceToken) {
        return new SessionTokens(
                issued.sessionId(), issued.accessToken(), issued.refreshToken(), accessTtl, deviceToken);
    }

    @Override
    public String toString() {
        return "SessionTokens[session=" + sessionId + "]";
    }

    public JsonObject toJson() {
        JsonObject json = new JsonObject()
                .put("accessToken", accessToken)
                .put("refreshToken", refreshToken)
                .put("tokenType", "Bearer")
                .put("expiresIn", accessTtl.toSeconds());
        deviceToken.ifPresent(t -> json.put("deviceToken", t));
        return json;
    }
}
