package uk.co.tradersflow.layeringfixture.email;

import uk.co.tradersflow.layeringfixture.billing.Ledger;

/** Email using billing, the other half of the cycle. */
public final class Mailer {
    public Ledger ledger;
}
