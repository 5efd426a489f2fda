package uk.co.tradersflow.platform.metrics;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code tf_security_events_total{event}}: what the security alerts watch. Each place where such
 * an event happens counts it with one line, {@code SecurityEvents.record(SecurityEvents.Event.X)}.
 */
public final class SecurityEvents {
    public enum Event {
        /** A sign-in with a wrong email or password. */
        LOGIN_FAILED,
        /** A user's sign-ins locked after too many failures. */
        LOCKOUT,
        /** A request refused by a rate limit or a sign-in throttle (429). */
        RATE_LIMITED,
        /** A bearer token that did not verify, or whose session or account has ended. */
        TOKEN_REJECTED,
        /** A spent refresh token presented after its grace period: the session is revoked. */
        REFRESH_REUSE,
        /** A webhook delivery (Stripe or email provider) refused: bad, missing or stale signature. */
        WEBHOOK_REJECTED,
        /** A signed-in user who is not an owner asked for the admin area. */
        ADMIN_DENIED,
        /** A file link with a bad signature, past its expiry, or from an older link epoch. */
        SIGNED_URL_REJECTED,
        /** A password reset requested (answered 202 whether or not the address is registered). */
        PASSWORD_RESET_REQUESTED
    }

    private static final Tally<Event> TALLY =
            new Tally<>(Event.class, "tf.security.events", "event", "Security-relevant events by kind");

    private SecurityEvents() {}

    public static void record(Event event) {
        TALLY.add(event);
    }

    public static long count(Event event) {
        return TALLY.count(event);
    }

    public static void bindTo(MeterRegistry registry) {
        TALLY.bindTo(registry);
    }
}
