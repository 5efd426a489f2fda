package uk.co.tradersflow.admin.actions;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import uk.co.tradersflow.platform.security.Principal;

/** Prepares the {@code export_report} action's download; implemented by the CSV report service. */
public interface ReportExports {
    /** Result {@code {report, url, expiresAt}}; {@code actionId} names the confirmed action it performs. */
    Future<JsonObject> prepare(UUID actionId, String report, Principal owner);
}
