package uk.co.tradersflow.error;

/**
 * Every problem the API can answer with: the HTTP status and the stable {@code code} clients
 * switch on. Adding a code is a contract change; renaming one breaks clients.
 */
public enum ErrorCode {
    MALFORMED_REQUEST(400, "Malformed request"),
    MALFORMED_JSON(400, "Malformed JSON body"),
    INVALID_SIGNATURE(400, "Invalid signature"),
    UNAUTHORIZED(401, "Authentication required"),
    INVALID_TOKEN(401, "Invalid or expired token"),
    INVALID_CREDENTIALS(401, "Invalid email or password"),
    INVALID_ID_TOKEN(401, "Invalid ID token"),
    FORBIDDEN(403, "Forbidden"),
    EMAIL_NOT_VERIFIED(403, "Email not verified"),
    ACCOUNT_SUSPENDED(403, "Account suspended"),
    NOT_OWNER(403, "Owners only"),
    INSUFFICIENT_ROLE(403, "Insufficient role"),
    SIGNED_URL_INVALID(403, "Link expired or invalid"),
    CONFIRMATION_INVALID(403, "Confirmation token does not match"),
    ACTION_NOT_YOURS(403, "Action requested by someone else"),
    NOT_FOUND(404, "Not found"),
    PROVIDER_NOT_CONFIGURED(404, "Sign-in provider not configured"),
    METHOD_NOT_ALLOWED(405, "Method not allowed"),
    CONFLICT(409, "Conflict"),
    CONNECT_NOT_READY(409, "Stripe Connect onboarding is not complete"),
    ACTION_ALREADY_CONFIRMED(409, "Action already confirmed"),
    ACCOUNT_EXISTS_UNVERIFIED(409, "An account with this email exists and cannot be linked"),
    LAST_SIGN_IN_METHOD(409, "Last sign-in method"),
    ACTION_EXPIRED(410, "Action expired"),
    PAYLOAD_TOO_LARGE(413, "Payload too large"),
    UNSUPPORTED_MEDIA_TYPE(415, "Unsupported media type"),
    RANGE_NOT_SATISFIABLE(416, "Range not satisfiable"),
    VALIDATION_FAILED(422, "Validation failed"),
    WEAK_PASSWORD(422, "Password too weak"),
    STRIPE_REFUSED(422, "Stripe refused the request"),
    TOO_MANY_ATTEMPTS(429, "Too many attempts"),
    RATE_LIMITED(429, "Too many requests"),
    INTERNAL_ERROR(500, "Internal error"),
    INSUFFICIENT_STORAGE(507, "Insufficient storage"),
    SERVICE_UNAVAILABLE(503, "Service unavailable"),
    BILLING_NOT_CONFIGURED(503, "Billing is not configured"),
    STRIPE_UNAVAILABLE(503, "Stripe is unavailable"),
    WEBHOOK_NOT_CONFIGURED(503, "Webhook is not configured"),
    PROVIDER_UNAVAILABLE(503, "Sign-in provider unavailable");

    private final int status;
    private final String title;

    ErrorCode(int status, String title) {
        this.status = status;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    /** The snake_case string clients see in {@code code}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
