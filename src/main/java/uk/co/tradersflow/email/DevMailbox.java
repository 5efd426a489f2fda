package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.mailencoder.MailEncoder;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.platform.log.RedactingMessageConverter;

/**
 * Development mail ({@code TF_DEV_MAIL}): each message is written as an {@code .eml} file (open
 * it in any mail program) under {@code TF_DEV_DATA_DIR/mail}, named by its outbox id, and its
 * subject and links are logged, so a newcomer can sign up and verify with nothing installed.
 * The links carry live tokens; the setting that enables this refuses a production
 * {@code TF_PUBLIC_URL}, which is what keeps them out of production logs.
 */
final class DevMailbox implements MailTransport {
    private static final Logger log = LoggerFactory.getLogger(DevMailbox.class);
    private static final Pattern LINK = Pattern.compile("https?://[^\\s<>\"]+");

    private final Vertx vertx;
    private final Path dir;
    private final String hostname;

    DevMailbox(Vertx vertx, Path dir, String hostname) {
        this.vertx = vertx;
        this.dir = dir;
        this.hostname = hostname;
    }

    Path dir() {
        return dir;
    }

    @Override
    public Future<String> send(MailMessage message) {
        MailEncoder encoder = new MailEncoder(message, hostname);
        String eml = encoder.encode();
        String messageId = encoder.getMessageID();
        String id = message.getHeaders() == null ? null : message.getHeaders().get(MailHeaders.TF_MESSAGE_ID);
        Path file = dir.resolve((id == null ? messageId.replaceAll("[^A-Za-z0-9.-]", "_") : id) + ".eml");
        // File I/O through Vert.x's file system: never on the event loop itself.
        return vertx.fileSystem()
                .mkdirs(dir.toString())
                .compose(v -> vertx.fileSystem().writeFile(file.toString(), Buffer.buffer(eml)))
                .map(v -> {
                    log.info(
                            RedactingMessageConverter.DEV_MAIL_LINK,
                            "dev mail to {}: \"{}\" {} (saved as {})",
                            message.getTo(),
                            message.getSubject(),
                            links(message.getText()),
                            file);
                    return messageId;
                });
    }

    private static List<String> links(String text) {
        if (text == null) {
            return List.of();
        }
        Matcher m = LINK.matcher(text);
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
