package uk.co.tradersflow.auth;

import uk.co.tradersflow.audit.AuditLog;
import uk.co.tradersflow.email.EmailOutbox;
import uk.co.tradersflow.platform.db.Db;

/**
 * What the flows that change a credential share (the emailed password reset, the signed-in user's
 * password and email changes): they check a new password and hash it, mail a link under a limit,
 * audit, and end the user's sessions. Built once in {@link AuthServices}, so those services are not
 * wired alike field by field.
 */
record CredentialTools(
        Db db,
        PasswordHasher hasher,
        PasswordPolicy policy,
        AuthLimits limits,
        AuthMails mails,
        EmailOutbox outbox,
        AuditLog audit,
        SessionRevocations revocations) {}
