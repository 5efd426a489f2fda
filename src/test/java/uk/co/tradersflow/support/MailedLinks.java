package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/** The links in queued emails, read from the outbox as a person would find them in the mail. */
public final class MailedLinks {
    private MailedLinks() {}

    /**
     * The {@code link} of the newest queued email of this template to this address, waiting up to
     * 5 s for it: some routes (password reset) answer before they queue.
     */
    public static String newest(TestServer server, String recipient, String template) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            List<String> links = Sql.admin()
                    .strings(
                            "SELECT model->>'link' FROM email_outbox WHERE recipient = ? AND template = ? "
                                    + "ORDER BY created_at DESC LIMIT 1",
                            recipient,
                            template);
            if (!links.isEmpty()) {
                return links.get(0);
            }
            assertThat(System.nanoTime())
                    .as(template + " email queued for " + recipient)
                    .isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** The single-use token a link carries. */
    public static String token(String link) {
        return link.replaceAll(".*[?&]token=", "");
    }
}
