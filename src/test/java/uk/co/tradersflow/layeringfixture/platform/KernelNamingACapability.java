package uk.co.tradersflow.layeringfixture.platform;

import uk.co.tradersflow.layeringfixture.billing.Invoicing;

/** A kernel class that names a capability class, which the kernel rule must refuse. */
public final class KernelNamingACapability {
    public Invoicing invoicing;
}
