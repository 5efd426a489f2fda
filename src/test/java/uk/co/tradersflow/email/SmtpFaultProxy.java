package uk.co.tradersflow.email;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import uk.co.tradersflow.support.TestServer;

/**
 * Sits between the server and a real SMTP server (GreenMail) and injects the faults a real mail
 * provider shows: a recipient rejected for good (550), a server too busy to talk (421), and a
 * server that takes a whole message and then never answers (the sender dies waiting).
 * Everything else passes through unchanged. Closed with {@link #close()}.
 */
final class SmtpFaultProxy implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    final int port;
    /** Recipients whose address contains this are refused at RCPT with 550. */
    volatile String rejectMarker = "\u0000";
    /** While set, every connection gets 421 (at once, or at its next message) and is closed. */
    volatile boolean busy;
    /** While set, the reply to the end of a message is never passed on. */
    volatile boolean swallowFinalReply;
    /** Connections whose whole message reached the mail server while its reply was swallowed. */
    final AtomicInteger swallowed = new AtomicInteger();

    SmtpFaultProxy(int target) {
        NetClient client = vertx.createNetClient();
        port = TestServer.await(vertx.createNetServer()
                        .connectHandler(in -> {
                            if (busy) {
                                in.write("421 4.3.2 Too busy, try again later\r\n")
                                        .onComplete(v -> in.close());
                                return;
                            }
                            in.pause();
                            client.connect(target, "127.0.0.1")
                                    .onSuccess(out -> relay(in, out))
                                    .onFailure(e -> in.close());
                        })
                        .listen(0, "127.0.0.1"))
                .actualPort();
    }

    private void relay(NetSocket in, NetSocket out) {
        boolean[] inData = {false};
        boolean[] messageEnded = {false};
        RecordParser lines = RecordParser.newDelimited("\r\n", line -> {
            String text = line.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
            if (inData[0]) {
                if (text.equals(".")) {
                    inData[0] = false;
                    messageEnded[0] = true;
                }
            } else if (busy && text.toUpperCase(Locale.ROOT).startsWith("MAIL FROM:")) {
                // A connection kept open from before: busy servers say so on the next message, and hang up.
                in.write("421 4.3.2 Too busy, try again later\r\n").onComplete(v -> in.close());
                return;
            } else if (text.toUpperCase(Locale.ROOT).startsWith("RCPT TO:") && text.contains(rejectMarker)) {
                in.write("550 5.1.1 Mailbox unavailable\r\n");
                return;
            } else if (text.equalsIgnoreCase("DATA")) {
                inData[0] = true;
            }
            out.write(Buffer.buffer().appendBuffer(line).appendString("\r\n"));
        });
        in.handler(lines);
        out.handler(reply -> {
            if (messageEnded[0]) {
                messageEnded[0] = false;
                if (swallowFinalReply) {
                    swallowed.incrementAndGet();
                    return;
                }
            }
            in.write(reply);
        });
        in.closeHandler(v -> out.close());
        out.closeHandler(v -> in.close());
        in.resume();
    }

    @Override
    public void close() {
        TestServer.await(vertx.close());
    }
}
