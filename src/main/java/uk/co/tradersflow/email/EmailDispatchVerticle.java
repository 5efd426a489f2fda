package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;

/**
 * Sends what the outbox holds. Wakes on the {@code email.dispatch} signal (sent after a commit)
 * and once a second, claims due rows, and sends each over SMTP with its own MailClient (not
 * {@code createShared}: a shared client has been reported to mix up concurrent sends,
 * vertx-mail-client #171) and its own time limit (the client has no per-command timeout).
 * A failure is retried with exponential backoff and jitter up to {@code TF_EMAIL_MAX_ATTEMPTS},
 * then the row is {@code failed}; a suppressed recipient's row becomes {@code suppressed}.
 */
public final class EmailDispatchVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(EmailDispatchVerticle.class);
  private static final int BATCH = 32;
  private static final Duration LEASE = Duration.ofMinutes(2);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
  /** How long a send that outlived SEND_TIMEOUT keeps its claim before another attempt may start. */
  private static final Duration LATE_OUTCOME_LEASE = Duration.ofMinutes(10);
  private static final Duration MAX_BACKOFF = Duration.ofHours(1);
  private static final Duration HEALTH_INTERVAL = Duration.ofSeconds(30);
  /** How long stopping may wait for the round in progress and the mail client. */
  private static final Duration DRAIN = Duration.ofSeconds(5);

  private final AppConfig config;
  private final OutboxStore outbox;
  private final EmailRenderer renderer;
  private final Duration baseBackoff;
  private final EmailHealth health;
  private final String fromDomain;
  private MailClient mail;
  private boolean running;
  private boolean stopping;
  private Future<?> round = Future.succeededFuture();
  private boolean again;
  private boolean smtpDown;
  private boolean outboxDown;

  public EmailDispatchVerticle(AppConfig config, Db db, EmailRenderer renderer, EmailHealth health, Duration baseBackoff) {
    this.config = config;
    this.outbox = new OutboxStore(db);
    this.renderer = renderer;
    this.health = health;
    this.baseBackoff = baseBackoff;
    String from = config.mailFrom();
    this.fromDomain = from.replaceAll(".*@", "").replaceAll("[>\\s].*", "");
  }

  @Override
  public Future<?> start() {
    MailConfig mailConfig = new MailConfig()
        .setHostname(config.smtpHost())
        .setPort(config.smtpPort())
        .setStarttls(StartTLSOptions.valueOf(config.smtpStartTls().name()))
        .setLogin(config.smtpUser().isPresent() ? LoginOption.REQUIRED : LoginOption.DISABLED)
        .setOwnHostname(config.publicUrl().getHost())
        .setKeepAlive(true)
        .setMaxPoolSize(4)
        .setConnectTimeout(5_000);
    config.smtpUser().ifPresent(mailConfig::setUsername);
    config.smtpPassword().ifPresent(mailConfig::setPassword);
    mail = MailClient.create(vertx, mailConfig);
    vertx.eventBus().consumer(Addresses.EMAIL_DISPATCH, m -> dispatchSoon());
    vertx.setPeriodic(1_000, id -> dispatchSoon());
    vertx.setPeriodic(HEALTH_INTERVAL.toMillis(), id -> health.evaluate()
        .onFailure(e -> log.warn("email health evaluation failed: {}", e.getMessage())));
    return Future.succeededFuture();
  }

  /**
   * Lets the round in progress record its outcomes first: closing under a half-finished outcome
   * transaction would leave it open, holding its rows, until the process ends. The whole stop,
   * mail client included (its close waits for a send in progress), is bounded by {@link #DRAIN};
   * a send cut off is counted as a failed attempt or, unrecorded, retried when its lease runs out.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    return round.transform(ar -> mail == null ? Future.succeededFuture() : mail.close())
        .timeout(DRAIN.toMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> {
          log.warn("email dispatch stopped with a send still in progress; it is retried when its claim runs out");
          return Future.succeededFuture();
        });
  }

  private void dispatchSoon() {
    if (stopping) {
      return;
    }
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    round = outbox.claim(BATCH, LEASE)
        .compose(batch -> sendAll(batch).map(batch.size()))
        .onComplete(ar -> {
          running = false;
          if (ar.failed()) {
            if (!outboxDown) {
              outboxDown = true;
              log.warn("email dispatch cannot reach the outbox; retrying every second: {}", ar.cause().getMessage());
            }
            return;
          }
          if (outboxDown) {
            outboxDown = false;
            log.info("email dispatch reaches the outbox again");
          }
          if (ar.result() == BATCH || again) {
            dispatchSoon();
          }
        });
  }

  private Future<Void> sendAll(List<OutboxMessage> batch) {
    if (batch.isEmpty()) {
      return Future.succeededFuture();
    }
    return outbox.suppressedAmong(batch.stream().map(OutboxMessage::recipient).toList())
        .compose(suppressed -> Future.join(batch.stream().map(m -> sendOne(m, suppressed)).toList()))
        .mapEmpty();
  }

  private Future<Void> sendOne(OutboxMessage m, Set<String> suppressed) {
    if (suppressed.contains(m.recipient())) {
      EmailMetrics.count(EmailMetrics.Outcome.SUPPRESSED);
      return outbox.suppressed(m);
    }
    Optional<EmailTemplate> template = EmailTemplate.byId(m.template());
    if (template.isEmpty() || !MailHeaders.isSafeAddress(m.recipient())) {
      // Nothing a retry could fix: fail it now, loudly.
      EmailMetrics.count(EmailMetrics.Outcome.FAILED);
      log.warn("email {} cannot be sent: {}", m.id(), template.isEmpty() ? "unknown template " + m.template() : "invalid recipient");
      return outbox.retryOrFail(m, "unsendable: unknown template or invalid recipient", 0, Duration.ZERO).mapEmpty();
    }
    MailMessage message;
    try {
      message = compose(m, template.get());
    } catch (RuntimeException e) {
      EmailMetrics.count(EmailMetrics.Outcome.FAILED);
      log.warn("email {} ({}) could not be rendered: {}", m.id(), m.template(), e.toString());
      return outbox.retryOrFail(m, "render failed: " + e.getClass().getSimpleName(), 0, Duration.ZERO).mapEmpty();
    }
    Future<io.vertx.ext.mail.MailResult> sending = mail.sendMail(message);
    return sending
        .timeout(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .compose(result -> delivered(m, result), error -> {
          if (!sending.isComplete()) {
            // Timing out stops the waiting, not the send: the server may still accept it. Requeuing
            // now could send it twice, so the claim is held and the real outcome decides.
            sending.onComplete(late -> (late.succeeded() ? delivered(m, late.result()) : failed(m, late.cause()))
                .onFailure(e -> log.warn("email {}: recording a late send outcome failed: {}", m.id(), e.toString())));
            return outbox.hold(m, LATE_OUTCOME_LEASE, "send still in progress after " + SEND_TIMEOUT.toSeconds() + " s");
          }
          return failed(m, error);
        });
  }

  private Future<Void> delivered(OutboxMessage m, io.vertx.ext.mail.MailResult result) {
    if (smtpDown) {
      smtpDown = false;
      log.info("SMTP server {}:{} is reachable again; queued email is going out", config.smtpHost(), config.smtpPort());
    }
    EmailMetrics.count(EmailMetrics.Outcome.SENT);
    return outbox.sent(m, "250 accepted", result.getMessageID());
  }

  private Future<Void> failed(OutboxMessage m, Throwable error) {
    boolean unreachable = isUnreachable(error);
    if (unreachable && !smtpDown) {
      smtpDown = true;
      log.warn("SMTP server {}:{} is unreachable ({}); email stays queued and is retried with backoff. "
          + "For local development run a mail catcher on that port (see README).", config.smtpHost(), config.smtpPort(), error.getMessage());
    }
    String reason = MailHeaders.clean(String.valueOf(error.getMessage()), 500);
    return outbox.retryOrFail(m, reason, config.emailMaxAttempts(), backoff(m.attempts()))
        .map(failedForGood -> {
          if (failedForGood) {
            EmailMetrics.count(EmailMetrics.Outcome.FAILED);
            log.warn("email {} ({}) failed after {} attempts: {}", m.id(), m.template(), m.attempts(), reason);
          } else if (!unreachable) {
            log.info("email {} ({}) attempt {} failed, will retry: {}", m.id(), m.template(), m.attempts(), reason);
          }
          return null;
        });
  }

  /** Exponential backoff from the base, capped at an hour, with ±20% jitter so retries spread out. */
  Duration backoff(int attempts) {
    double exponential = baseBackoff.toMillis() * Math.pow(2, Math.max(0, attempts - 1));
    double capped = Math.min(exponential, MAX_BACKOFF.toMillis());
    return Duration.ofMillis((long) (capped * ThreadLocalRandom.current().nextDouble(0.8, 1.2)));
  }

  private MailMessage compose(OutboxMessage m, EmailTemplate template) {
    EmailRenderer.Rendered rendered = renderer.render(template, m.model());
    MultiMap headers = MultiMap.caseInsensitiveMultiMap()
        .add("X-TF-Message-Id", m.id().toString())
        .add("Message-ID", "<" + m.id() + "@" + fromDomain + ">")
        .add("X-TF-Template", template.id());
    if (template.bulk()) {
      headers.add("List-Unsubscribe", "<mailto:unsubscribe@" + fromDomain + "?subject=unsubscribe%20" + m.id() + ">");
    }
    return new MailMessage()
        .setFrom(config.mailFrom())
        .setTo(m.recipient())
        .setSubject(MailHeaders.clean(rendered.subject(), 200))
        .setText(rendered.text())
        .setHtml(rendered.html())
        .setHeaders(headers);
  }

  private static boolean isUnreachable(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof java.nio.channels.ClosedChannelException
          || t instanceof java.util.concurrent.TimeoutException || t instanceof io.netty.channel.ConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }
}
