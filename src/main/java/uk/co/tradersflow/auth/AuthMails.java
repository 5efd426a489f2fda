package uk.co.tradersflow.auth;

import io.vertx.core.json.JsonObject;
import uk.co.tradersflow.config.AppConfig;

/** What the auth flows' mails have in common: links into the web app, and the note staff addresses get. */
final class AuthMails {
    private final AppConfig.AuthSettings config;

    AuthMails(AppConfig.AuthSettings config) {
        this.config = config;
    }

    /** Links in emails lead to the web app (TF_APP_URL), which posts the token back to the API. */
    String link(String path, String token) {
        return config.links().appLink(token == null ? path : path + "?token=" + token);
    }

    /**
     * Verification and reset mails to a staff address tell its owner the admin area's rule: only a
     * password set through a reset link opens it, so confirming a sign-up they did not make hands
     * nobody the admin area, and a reset is how they take the address back.
     */
    JsonObject staffNote(EmailAddress email, JsonObject model) {
        return config.isStaffEmail(email.value()) ? model.put("staff", true) : model;
    }
}
