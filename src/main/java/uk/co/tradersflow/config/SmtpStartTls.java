package uk.co.tradersflow.config;

/** How outgoing mail negotiates STARTTLS. */
public enum SmtpStartTls {
    DISABLED,
    OPTIONAL,
    REQUIRED
}
