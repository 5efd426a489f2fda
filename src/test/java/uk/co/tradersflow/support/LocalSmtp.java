package uk.co.tradersflow.support;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/** A GreenMail SMTP server on a free local port, for the tests of what the server mails. */
public final class LocalSmtp {
    private LocalSmtp() {}

    /** Started, listening on 127.0.0.1. */
    public static GreenMail start() {
        return start(TestServer.freePort());
    }

    /** Started, listening on 127.0.0.1:{@code port}. */
    public static GreenMail start(int port) {
        GreenMail smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        return smtp;
    }

    /** {@code more}, and the settings that send the server's mail to {@code smtp}: plain SMTP, as GreenMail offers no STARTTLS. */
    public static Map<String, String> settings(GreenMail smtp, Map<String, String> more) {
        Map<String, String> settings = new HashMap<>(more);
        settings.put("TF_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()));
        settings.put("TF_SMTP_STARTTLS", "disabled");
        return settings;
    }

    /**
     * The class's server, mailing from the address the mail tests read to a GreenMail started just
     * before it (handed to {@code started}) and stopped after it.
     */
    public static ServerExtension server(Consumer<GreenMail> started) {
        GreenMail[] smtp = new GreenMail[1];
        return ServerExtension.with(() -> {
                    smtp[0] = start();
                    started.accept(smtp[0]);
                    return settings(smtp[0], Map.of("TF_MAIL_FROM", "TradersFlow <no-reply@tradersflow.test>"));
                })
                .closing(() -> smtp[0] == null ? null : smtp[0]::stop);
    }

    /**
     * What {@code smtp} received for {@code domain}, once {@code count} messages are there or
     * {@code seconds} have passed (whichever is first): delivery is asynchronous.
     */
    public static MimeMessage[] receivedFor(GreenMail smtp, String domain, int count, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        MimeMessage[] received = smtp.getReceivedMessagesForDomain(domain);
        while (received.length < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
            received = smtp.getReceivedMessagesForDomain(domain);
        }
        return received;
    }

    /** The decoded content of the first part of this MIME type, searching nested multiparts; null if there is none. */
    public static String part(Part message, String mimeType) throws Exception {
        if (message.isMimeType(mimeType)) {
            return (String) message.getContent();
        }
        if (message.getContent() instanceof Multipart multipart) {
            for (int i = 0; i < multipart.getCount(); i++) {
                String found = part(multipart.getBodyPart(i), mimeType);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }
}
