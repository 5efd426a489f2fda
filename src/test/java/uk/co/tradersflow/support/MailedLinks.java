package uk.co.tradersflow.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

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
      try (Connection c = server.env.admin();
           PreparedStatement ps = c.prepareStatement("SELECT model->>'link' FROM email_outbox WHERE recipient = ? AND template = ? "
               + "ORDER BY created_at DESC LIMIT 1")) {
        ps.setString(1, recipient);
        ps.setString(2, template);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return rs.getString(1);
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      assertThat(System.nanoTime()).as(template + " email queued for " + recipient).isLessThan(deadline);
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
