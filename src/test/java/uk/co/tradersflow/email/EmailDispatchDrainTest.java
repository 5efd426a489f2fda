package uk.co.tradersflow.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import uk.co.tradersflow.support.TestEmails;
import uk.co.tradersflow.support.TestServer;
import uk.co.tradersflow.support.TestUsers;
import uk.co.tradersflow.support.TestUsers.TestUser;

/**
 * Stopping the server while an email is on the wire waits for the SMTP server's answer and
 * records it. A stop that did not would leave the row claimed ("sending") with the email already
 * delivered, and the next instance would send it again when the claim ran out.
 */
class EmailDispatchDrainTest {
    private static final Duration HOLD = Duration.ofSeconds(2);

    @Test
    void stoppingWaitsForTheSendOnTheWireAndRecordsItsOutcome() throws Exception {
        GreenMail smtp = new GreenMail(new ServerSetup(TestServer.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        SlowReplyProxy proxy = new SlowReplyProxy(smtp.getSmtp().getPort(), HOLD);
        try {
            TestServer server = TestServer.start(Map.of(
                    "TF_SMTP_PORT",
                    Integer.toString(proxy.port),
                    "TF_SMTP_STARTTLS",
                    "disabled",
                    "TF_MAIL_FROM",
                    "TradersFlow <no-reply@tradersflow.test>"));
            TestEmails emails = new TestEmails(server);
            TestUser user = new TestUsers(server).create();
            String domain = UUID.randomUUID() + ".test";
            UUID id = emails.enqueue(
                            user.accountId(),
                            "password_reset",
                            "drain@" + domain,
                            new JsonObject().put("link", "https://app.test/reset-password?token=abc"),
                            "drain:" + UUID.randomUUID())
                    .orElseThrow();

            // The whole message has reached the SMTP server; its "250 accepted" is being held back.
            proxy.holding.future().toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
            assertThat(emails.status(id)).isEqualTo("sending");

            server.close();

            assertThat(emails.status(id))
                    .as("the outcome was recorded before the server stopped")
                    .isEqualTo("sent");
            assertThat(emails.column(id, "attempts")).isEqualTo("1");
            assertThat(smtp.getReceivedMessagesForDomain(domain)).hasSize(1);
        } finally {
            TestServer.await(proxy.vertx.close());
            smtp.stop();
        }
    }

    /**
     * Forwards SMTP to the real server, holding back its reply to the end of a message: the "send
     * in progress" a stop meets in production when the mail server is slow to accept.
     */
    private static final class SlowReplyProxy {
        final Vertx vertx = Vertx.vertx();
        final Promise<Void> holding = Promise.promise();
        final int port;

        SlowReplyProxy(int target, Duration hold) {
            NetClient client = vertx.createNetClient();
            port = TestServer.await(vertx.createNetServer()
                            .connectHandler(in -> {
                                in.pause();
                                client.connect(target, "127.0.0.1")
                                        .onSuccess(out -> {
                                            boolean[] messageEnded = {false};
                                            // The end-of-message line may arrive split over writes: look at the
                                            // stream's tail too.
                                            String[] tail = {""};
                                            // Replies go back in order, each after the one before it, held or not.
                                            Future<?>[] replies = {Future.succeededFuture()};
                                            in.handler(bytes -> {
                                                String seen = tail[0] + bytes.toString(StandardCharsets.ISO_8859_1);
                                                if (seen.contains("\r\n.\r\n")) {
                                                    messageEnded[0] = true;
                                                }
                                                tail[0] = seen.substring(Math.max(0, seen.length() - 4));
                                                out.write(bytes);
                                            });
                                            out.handler(bytes -> {
                                                boolean holdThis = messageEnded[0];
                                                messageEnded[0] = false;
                                                if (holdThis) {
                                                    holding.tryComplete();
                                                }
                                                replies[0] = replies[0]
                                                        .compose(v -> holdThis
                                                                ? vertx.timer(hold.toMillis())
                                                                : Future.succeededFuture())
                                                        .compose(v -> in.write(bytes));
                                            });
                                            in.closeHandler(v -> out.close());
                                            out.closeHandler(v -> in.close());
                                            in.resume();
                                        })
                                        .onFailure(e -> in.close());
                            })
                            .listen(0, "127.0.0.1"))
                    .actualPort();
        }
    }
}
