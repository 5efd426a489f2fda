package uk.co.tradersflow.platform.bus;

/** A payload-free nudge ("there is work"), for addresses where the data itself is in Postgres. */
public record Signal() {
    public static final Signal INSTANCE = new Signal();
}
