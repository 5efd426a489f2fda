package uk.co.tradersflow.layeringfixture.billing;

/** The billing type email reaches back for, closing the cycle. */
public final class Ledger {}
