package uk.co.tradersflow.email;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.SMTPException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.platform.bus.Addresses;
import uk.co.tradersflow.platform.db.Db;

/**
 * Sends what the outbox holds. Wakes on the {@code email.dispatch} signal (sent after a commit)
 * and once a second, claims due rows, and sends each with its own time limit (the mail client
 * has no per-command timeout), recording each outcome in its own commit the moment it is known.
 *
 * <p>Only a failure of the message itself (a permanent SMTP rejection) spends one of its
 * {@code TF_EMAIL_MAX_ATTEMPTS}, retried with exponential backoff and jitter, then {@code failed};
 * a suppressed recipient's row becomes {@code suppressed}. When the mail server fails instead
 * (unreachable, timing out, answering 4xx "busy", refusing our login), the row goes back to the
 * queue untouched and the whole queue pauses: one message at a time probes the server, within
 * 1, 2, 4, then every 5 seconds, and the queue resumes the moment one goes through. An outage of
 * any length therefore loses nothing and sends everything once it ends, within seconds.
 *
 * <p>Claims carry a {@link #LEASE} the dispatcher renews every {@link #HEARTBEAT} while it works
 * on them, so when an instance dies its rows are taken over within the lease (under 15 s), and a
 * message that was on the wire when it died is sent at most once more, with the same Message-ID.
 */
public final class EmailDispatchVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(EmailDispatchVerticle.class);
    private static final int BATCH = 32;
    /** How long a claim outlives its dispatcher's last heartbeat: the takeover time after a crash. */
    static final Duration LEASE = Duration.ofSeconds(8);

    static final Duration HEARTBEAT = Duration.ofSeconds(2);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    /** How long a send that outlived SEND_TIMEOUT keeps its claim before another attempt may start. */
    private static final Duration LATE_OUTCOME_LEASE = Duration.ofMinutes(10);

    private static final Duration MAX_BACKOFF = Duration.ofHours(1);
    private static final Duration FIRST_PROBE = Duration.ofSeconds(1);
    private static final Duration MAX_PROBE = Duration.ofSeconds(5);
    private static final Duration HEALTH_INTERVAL = Duration.ofSeconds(30);
    /** How long stopping may wait for the round in progress and the mail client. */
    private static final Duration DRAIN = Duration.ofSeconds(5);
    /** SMTP 5xx replies about our session (authentication), not about the message: the server's fault, so no attempt is spent. */
    private static final Set<Integer> SESSION_REJECTIONS = Set.of(530, 534, 535, 538);

    private final AppConfig.EmailSettings config;
    private final OutboxStore outbox;
    private final EmailRenderer renderer;
    private final Duration baseBackoff;
    private final EmailHealth health;
    private final Clock clock;
    private final String fromDomain;
    /** Rows this dispatcher has claimed and not yet recorded an outcome for: row id to claim number. */
    private final Map<UUID, Integer> working = new HashMap<>();

    private MailTransport transport;
    private long heartbeat = -1;
    private boolean running;
    private boolean stopping;
    private Future<?> round = Future.succeededFuture();
    private boolean again;
    private boolean smtpDown;
    private boolean outboxDown;
    /** Set when a send of this round met a mail server that failed: the queue pauses after it. */
    private boolean serverFailedThisRound;

    private Duration probeDelay;

    public EmailDispatchVerticle(
            AppConfig.EmailSettings config,
            Db db,
            EmailRenderer renderer,
            EmailHealth health,
            Duration baseBackoff,
            Clock clock) {
        this.config = config;
        this.outbox = new OutboxStore(db);
        this.renderer = renderer;
        this.health = health;
        this.baseBackoff = baseBackoff;
        this.clock = clock;
        String from = config.mailFrom();
        this.fromDomain = from.replaceAll(".*@", "").replaceAll("[>\\s].*", "");
    }

    @Override
    public Future<?> start() {
        if (config.devMail()) {
            DevMailbox mailbox = new DevMailbox(
                    vertx,
                    config.devMailDir().toAbsolutePath(),
                    config.links().publicUrl().getHost());
            log.warn(
                    "TF_DEV_MAIL is on: email is not sent but written to {} and its links logged (development only)",
                    mailbox.dir());
            transport = mailbox;
        } else {
            transport = new SmtpTransport(vertx, config);
        }
        vertx.eventBus().consumer(Addresses.EMAIL_DISPATCH, m -> dispatchSoon());
        vertx.setPeriodic(1_000, id -> dispatchSoon());
        heartbeat = vertx.setPeriodic(HEARTBEAT.toMillis(), id -> renewLeases());
        vertx.setPeriodic(HEALTH_INTERVAL.toMillis(), id -> health.evaluate()
                .onFailure(e -> log.warn("email health evaluation failed: {}", e.getMessage())));
        return Future.succeededFuture();
    }

    /**
     * Lets the round in progress record its outcomes first: closing under a half-finished outcome
     * transaction would leave it open, holding its rows, until the process ends. The whole stop,
     * mail client included (its close waits for a send in progress), is bounded by {@link #DRAIN};
     * a send cut off is retried by another instance when its lease runs out. The heartbeat stops
     * at once: the drain is shorter than what is left of any lease, and a stop that outlived
     * the drain must not keep its claims alive.
     */
    @Override
    public Future<?> stop() {
        stopping = true;
        vertx.cancelTimer(heartbeat);
        return round.transform(ar -> transport == null ? Future.succeededFuture() : transport.close())
                .timeout(DRAIN.toMillis(), TimeUnit.MILLISECONDS)
                .recover(e -> {
                    log.warn(
                            "email dispatch stopped with a send still in progress; it is retried when its claim runs out");
                    return Future.succeededFuture();
                });
    }

    private void renewLeases() {
        if (working.isEmpty() || stopping) {
            return;
        }
        outbox.renew(Map.copyOf(working), LEASE)
                .onFailure(e -> log.warn(
                        "email dispatch could not renew its claims ({}); another instance may take them over",
                        e.getMessage()));
    }

    private void dispatchSoon() {
        if (stopping || probeDelay != null) {
            return; // paused: the probe timer drives until the mail server is back
        }
        if (running) {
            again = true;
            return;
        }
        again = false;
        runRound(BATCH);
    }

    /** One claim and its sends; {@code batch} is 1 while paused, when the round is the probe. */
    private void runRound(int batch) {
        running = true;
        serverFailedThisRound = false;
        round = outbox.claim(batch, LEASE, clock.instant())
                .compose(claimed -> sendAll(claimed).map(claimed.size()))
                .onComplete(ar -> {
                    running = false;
                    if (stopping) {
                        return;
                    }
                    if (ar.failed()) {
                        if (!outboxDown) {
                            outboxDown = true;
                            log.warn(
                                    "email dispatch cannot reach the outbox; retrying every second: {}",
                                    ar.cause().getMessage());
                        }
                        if (probeDelay != null) {
                            probeLater();
                        }
                        return;
                    }
                    if (outboxDown) {
                        outboxDown = false;
                        log.info("email dispatch reaches the outbox again");
                    }
                    if (serverFailedThisRound) {
                        probeLater();
                        return;
                    }
                    if (ar.result() == 0) {
                        // No mail waits here (another instance may have sent it): nothing to report.
                        health.smtpReachable();
                        smtpDown = false;
                    }
                    probeDelay = null;
                    if (ar.result() == batch || again) {
                        dispatchSoon();
                    }
                });
    }

    /** Pauses the queue (or keeps it paused) and probes again after 1, 2, 4, then every 5 seconds. */
    private void probeLater() {
        probeDelay = probeDelay == null ? FIRST_PROBE : min(probeDelay.multipliedBy(2), MAX_PROBE);
        vertx.setTimer(probeDelay.toMillis(), id -> {
            if (stopping) {
                return;
            }
            if (running) {
                probeLater(); // a round is still recording its outcomes: probe after it
            } else {
                runRound(1);
            }
        });
    }

    /**
     * Sends a claimed batch: different recipients' messages side by side, one recipient's one after
     * another in the order claimed (oldest first), so nobody receives a newer email before an older
     * one (a reset link before the verification, say) on one instance. Across instances claims run
     * side by side and keep no such order.
     */
    private Future<Void> sendAll(List<OutboxMessage> batch) {
        if (batch.isEmpty()) {
            return Future.succeededFuture();
        }
        batch.forEach(m -> working.put(m.id(), m.claim()));
        return outbox.suppressedAmong(
                        batch.stream().map(OutboxMessage::recipient).toList())
                .compose(suppressed -> {
                    Map<String, Future<Void>> previous = new HashMap<>();
                    List<Future<Void>> sends = new java.util.ArrayList<>();
                    for (OutboxMessage m : batch) {
                        Future<Void> send = previous.getOrDefault(m.recipient(), Future.succeededFuture())
                                .transform(ignored -> sendOne(m, suppressed))
                                .andThen(ar -> working.remove(m.id(), m.claim()));
                        previous.put(m.recipient(), send);
                        sends.add(send);
                    }
                    return Future.join(sends);
                })
                .onFailure(e -> batch.forEach(m -> working.remove(m.id(), m.claim())))
                .mapEmpty();
    }

    private Future<Void> sendOne(OutboxMessage m, Set<String> suppressed) {
        if (serverFailedThisRound) {
            // A message queued behind one the mail server failed: not tried, so it stays behind it.
            return outbox.release(m, "not tried: the mail server failed a send before it", Optional.empty());
        }
        if (suppressed.contains(m.recipient())) {
            EmailMetrics.count(EmailMetrics.Outcome.SUPPRESSED);
            return outbox.suppressed(m);
        }
        Optional<EmailTemplate> template = EmailTemplate.byId(m.template());
        if (template.isEmpty() || !MailHeaders.isSafeAddress(m.recipient())) {
            // Nothing a retry could fix: fail it now, loudly.
            EmailMetrics.count(EmailMetrics.Outcome.FAILED);
            log.warn(
                    "email {} cannot be sent: {}",
                    m.id(),
                    template.isEmpty() ? "unknown template " + m.template() : "invalid recipient");
            return outbox.retryOrFail(
                            m, "unsendable: unknown template or invalid recipient", 0, Duration.ZERO, clock.instant())
                    .mapEmpty();
        }
        MailMessage message;
        try {
            message = compose(m, template.get());
        } catch (RuntimeException e) {
            EmailMetrics.count(EmailMetrics.Outcome.FAILED);
            log.warn("email {} ({}) could not be rendered: {}", m.id(), m.template(), e.toString());
            return outbox.retryOrFail(
                            m, "render failed: " + e.getClass().getSimpleName(), 0, Duration.ZERO, clock.instant())
                    .mapEmpty();
        }
        Future<String> sending = transport.send(message);
        return sending.timeout(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .compose(messageId -> delivered(m, messageId), error -> {
                    if (!sending.isComplete()) {
                        // Timing out stops the waiting, not the send: the server may still accept it. Requeuing
                        // now could send it twice, so the claim is held and the real outcome decides.
                        sending.onComplete(late -> (late.succeeded()
                                        ? delivered(m, late.result())
                                        : failed(m, late.cause()))
                                .onFailure(e -> log.warn(
                                        "email {}: recording a late send outcome failed: {}", m.id(), e.toString())));
                        return outbox.hold(
                                m,
                                LATE_OUTCOME_LEASE,
                                "send still in progress after " + SEND_TIMEOUT.toSeconds() + " s");
                    }
                    return failed(m, error);
                });
    }

    private Future<Void> delivered(OutboxMessage m, String messageId) {
        health.smtpReachable();
        if (smtpDown) {
            smtpDown = false;
            log.info(
                    "SMTP server {}:{} accepts mail again; queued email is going out",
                    config.smtpHost(),
                    config.smtpPort());
        }
        EmailMetrics.count(EmailMetrics.Outcome.SENT);
        return outbox.sent(m, config.devMail() ? "written to the development mailbox" : "250 accepted", messageId);
    }

    private Future<Void> failed(OutboxMessage m, Throwable error) {
        String reason = MailHeaders.clean(String.valueOf(error.getMessage()), 500);
        if (!isFailureOfTheMessage(error)) {
            serverFailedThisRound = true;
            health.smtpUnreachable(clock.instant());
            if (!smtpDown) {
                smtpDown = true;
                // "is unreachable" is the stable marker operators alert on (README): keep it in this line.
                log.warn(
                        "SMTP server {}:{} is unreachable or not taking mail ({}); email stays queued, no attempts are spent, and sending "
                                + "resumes within seconds of it coming back. For local development run a mail catcher on that port or "
                                + "use TF_DEV_MAIL (see README).",
                        config.smtpHost(),
                        config.smtpPort(),
                        reason);
            }
            return outbox.release(
                    m, reason, isFailureOfTheServer(error) ? Optional.empty() : Optional.of(clock.instant()));
        }
        int attempt = m.attempts() + 1;
        return outbox.retryOrFail(m, reason, config.maxAttempts(), backoff(attempt), clock.instant())
                .map(failedForGood -> {
                    if (failedForGood) {
                        EmailMetrics.count(EmailMetrics.Outcome.FAILED);
                        log.warn("email {} ({}) failed after {} attempts: {}", m.id(), m.template(), attempt, reason);
                    } else {
                        log.info(
                                "email {} ({}) attempt {} was rejected, will retry: {}",
                                m.id(),
                                m.template(),
                                attempt,
                                reason);
                    }
                    return null;
                });
    }

    /**
     * Only a permanent rejection of this message (SMTP 5xx other than a refused login) is the
     * message's fault. Everything else (refused or dropped connections, timeouts, TLS trouble, 4xx
     * "try later", a development mailbox that cannot write) says nothing about the message.
     */
    static boolean isFailureOfTheMessage(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SMTPException smtp) {
                return smtp.isPermanent() && !SESSION_REJECTIONS.contains(smtp.getReplyCode());
            }
        }
        return false;
    }

    /**
     * The mail server as a whole failed (refused or dropped the connection, timed out, said 421
     * "service not available"), rather than putting off this one message with a 4xx of its own
     * (a full mailbox, greylisting): every message would have met the same.
     */
    static boolean isFailureOfTheServer(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SMTPException smtp) {
                return smtp.getReplyCode() == 421;
            }
        }
        return true;
    }

    /** Exponential backoff from the base, capped at an hour, with ±20% jitter so retries spread out. */
    Duration backoff(int attempts) {
        double exponential = baseBackoff.toMillis() * Math.pow(2, Math.max(0, attempts - 1));
        double capped = Math.min(exponential, MAX_BACKOFF.toMillis());
        return Duration.ofMillis((long) (capped * ThreadLocalRandom.current().nextDouble(0.8, 1.2)));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** The Message-ID is the row's: every send of one row, retries and takeovers included, carries the same one. */
    private MailMessage compose(OutboxMessage m, EmailTemplate template) {
        EmailRenderer.Rendered rendered = renderer.render(template, m.model());
        MultiMap headers = MultiMap.caseInsensitiveMultiMap()
                .add(MailHeaders.TF_MESSAGE_ID, m.id().toString())
                .add("Message-ID", "<" + m.id() + "@" + fromDomain + ">")
                .add("X-TF-Template", template.id());
        if (template.bulk()) {
            headers.add(
                    "List-Unsubscribe", "<mailto:unsubscribe@" + fromDomain + "?subject=unsubscribe%20" + m.id() + ">");
        }
        return new MailMessage()
                .setFrom(config.mailFrom())
                .setTo(m.recipient())
                .setSubject(MailHeaders.clean(rendered.subject(), 200))
                .setText(rendered.text())
                .setHtml(rendered.html())
                .setHeaders(headers);
    }
}
