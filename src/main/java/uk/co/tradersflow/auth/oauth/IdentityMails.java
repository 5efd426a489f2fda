package uk.co.tradersflow.auth.oauth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.email.OutgoingEmail;
import uk.co.tradersflow.platform.db.Tx;

/**
 * The mail a user gets when a way of signing in is added to or removed from their account
 * ("Google sign-in was added to your account"), queued in the transaction that made the change.
 */
final class IdentityMails {
    static final String ADDED = "sign_in_method_added";
    static final String REMOVED = "sign_in_method_removed";

    private final EmailOutbox outbox;
    private final Clock clock;

    IdentityMails(EmailOutbox outbox, Clock clock) {
        this.outbox = outbox;
        this.clock = clock;
    }

    Future<Void> changed(
            Tx tx,
            String template,
            UUID accountId,
            UUID userId,
            String recipient,
            String provider,
            String providerEmail) {
        Instant at = clock.instant();
        return outbox.enqueue(
                        tx,
                        OutgoingEmail.of(
                                template,
                                recipient,
                                new JsonObject()
                                        .put("provider", Provider.nameOf(provider))
                                        .put("providerEmail", providerEmail)
                                        .put("at", at.toString()),
                                // One mail per change: a link made again after an unlink is mailed again.
                                template + ":" + userId + ":" + provider + ":" + at.toEpochMilli(),
                                accountId))
                .mapEmpty();
    }
}
