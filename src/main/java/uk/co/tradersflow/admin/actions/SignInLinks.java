package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import uk.co.tradersflow.platform.security.Principal;

/** Issues the {@code signin_link} action's one-time URL; implemented by the sign-in link service. */
public interface SignInLinks {
    /** Result {@code {url, expiresAt}}; {@code actionId} names the confirmed action it performs. */
    Future<JsonObject> issue(UUID actionId, UUID accountId, Principal staff);
}
