package uk.co.tradersflow.platform.security;

/** Who caused an audited action. */
public enum ActorType {
    USER,
    OWNER,
    SYSTEM,
    STRIPE;

    public String dbValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
