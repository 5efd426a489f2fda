package uk.co.tradersflow.layeringfixture.billing;

import uk.co.tradersflow.layeringfixture.email.Mailer;

/** Billing using email, one half of the cycle. */
public final class Invoicing {
    public String send(Mailer mailer) {
        return String.valueOf(mailer);
    }
}
