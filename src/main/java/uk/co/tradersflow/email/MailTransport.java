package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.ext.mail.MailMessage;

/**
 * Where the dispatcher hands a composed message: the SMTP server, or on a developer machine
 * without one, {@link DevMailbox}. A send succeeds with the message's id once it is accepted.
 */
interface MailTransport {
    Future<String> send(MailMessage message);

    Future<Void> close();
}
