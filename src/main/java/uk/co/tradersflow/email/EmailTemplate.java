package uk.co.tradersflow.email;

import java.util.Locale;
import java.util.Optional;

/**
 * Every kind of email the server sends. {@code bulk} marks the ones a person may opt out of:
 * they carry List-Unsubscribe. Security and account email (verification, resets, lockouts,
 * changes) never do: unsubscribing from those would be unsafe.
 */
public enum EmailTemplate {
    VERIFY_EMAIL(false),
    EMAIL_ALREADY_REGISTERED(false),
    PASSWORD_RESET(false),
    ACCOUNT_LOCKED(false),
    PASSWORD_CHANGED(false),
    EMAIL_CHANGE_CONFIRM(false),
    EMAIL_CHANGE_NOTICE(false),
    SIGNIN_ALERT(false),
    SIGN_IN_METHOD_ADDED(false),
    SIGN_IN_METHOD_REMOVED(false),
    ACCOUNT_CLOSED(false),
    TRIAL_ENDING(true),
    PAYMENT_FAILED(false),
    INVOICE(true),
    PAYMENT_RECEIVED(true),
    INCIDENT_NOTICE(false);

    private final boolean bulk;

    EmailTemplate(boolean bulk) {
        this.bulk = bulk;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean bulk() {
        return bulk;
    }

    public static Optional<EmailTemplate> byId(String id) {
        for (EmailTemplate t : values()) {
            if (t.id().equals(id)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
