package uk.co.tradersflow.support;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import java.util.HashMap;
import java.util.Map;

/** A GreenMail SMTP server on a free local port, for the tests of what the server mails. */
public final class LocalSmtp {
  private LocalSmtp() {}

  /** Started, listening on 127.0.0.1. */
  public static GreenMail start() {
    GreenMail smtp = new GreenMail(new ServerSetup(TestServer.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
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
}
