package uk.co.tradersflow.admin.actions;

import java.util.Locale;

/** The sensitive actions of the admin area, each performed only once confirmed. */
public enum AdminAction {
    SIGNIN_LINK,
    REFUND,
    SUSPEND,
    REINSTATE,
    EXTEND_TRIAL,
    EXPORT_REPORT;

    /** The name clients send and audit entries carry: {@code extend_trial}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static AdminAction fromWire(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    /** Every action but a report export acts on one account. */
    public boolean needsAccount() {
        return this != EXPORT_REPORT;
    }

    /** Support staff may ask for sign-in links and nothing else; owners may do everything. */
    public boolean supportMay() {
        return this == SIGNIN_LINK;
    }
}
