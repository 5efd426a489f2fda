package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import uk.co.tradersflow.error.AppError;
import uk.co.tradersflow.error.ErrorCode;
import uk.co.tradersflow.platform.security.Principal;

/**
 * The sign-in link and report export actions on a server built without their services: a
 * confirmed action of either kind fails with 503 {@code not_available} (recorded as failed), and
 * nothing pretends to have happened.
 */
public final class NotYetAvailable implements SignInLinks, ReportExports {
    @Override
    public Future<JsonObject> issue(UUID actionId, UUID accountId, Principal staff) {
        return Future.failedFuture(
                AppError.of(ErrorCode.NOT_AVAILABLE, "Sign-in links are not available on this server yet"));
    }

    @Override
    public Future<JsonObject> prepare(UUID actionId, String report, Principal owner) {
        return Future.failedFuture(
                AppError.of(ErrorCode.NOT_AVAILABLE, "Report exports are not available on this server yet"));
    }
}
