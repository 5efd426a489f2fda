package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.MailResult;
import io.vertx.ext.mail.StartTLSOptions;
import uk.co.tradersflow.config.AppConfig;

/**
 * Sends over SMTP with a MailClient of its own (not {@code createShared}: a shared client has been
 * reported to mix up concurrent sends, vertx-mail-client #171), at most four connections.
 */
final class SmtpTransport implements MailTransport {
    private final MailClient mail;

    SmtpTransport(Vertx vertx, AppConfig.EmailSettings config) {
        MailConfig mailConfig = new MailConfig()
                .setHostname(config.smtpHost())
                .setPort(config.smtpPort())
                .setStarttls(StartTLSOptions.valueOf(config.smtpStartTls().name()))
                .setLogin(config.smtpUser().isPresent() ? LoginOption.REQUIRED : LoginOption.DISABLED)
                .setOwnHostname(config.links().publicUrl().getHost())
                .setKeepAlive(true)
                .setMaxPoolSize(4)
                .setConnectTimeout(5_000);
        config.smtpUser().ifPresent(mailConfig::setUsername);
        config.smtpPassword().ifPresent(mailConfig::setPassword);
        mail = MailClient.create(vertx, mailConfig);
    }

    @Override
    public Future<String> send(MailMessage message) {
        return mail.sendMail(message).map(MailResult::getMessageID);
    }

    @Override
    public Future<Void> close() {
        return mail.close();
    }
}
