package uk.co.tradersflow.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A client that speaks HTTP/1.x byte by byte over a plain or TLS socket (no ALPN, so HTTP/1.1),
 * for what a well-behaved client library will not send: conflicting framing, pipelined bytes,
 * a head trickled a line at a time. Reads are bounded, so a test cannot hang.
 */
public final class RawHttp implements AutoCloseable {
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");

    private final Socket socket;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private boolean closedByServer;

    private RawHttp(Socket socket) {
        this.socket = socket;
    }

    public static RawHttp connect(int port, boolean tls) throws IOException {
        Socket socket;
        if (tls) {
            SSLSocket ssl =
                    (SSLSocket) trustingAnyCertificate().getSocketFactory().createSocket("localhost", port);
            ssl.startHandshake();
            socket = ssl;
        } else {
            socket = new Socket("localhost", port);
        }
        socket.setSoTimeout(200);
        return new RawHttp(socket);
    }

    /**
     * A TLS connection, or null when the server closed it during or right after the handshake
     * (what it does to a connection over the per-address cap).
     */
    public static RawHttp connectOrNull(int port) {
        try {
            return connect(port, true);
        } catch (IOException e) {
            return null;
        }
    }

    /** A TLS client context that accepts the test server's self-signed certificate (and any other). */
    public static SSLContext trustingAnyCertificate() throws IOException {
        try {
            return TrustAllTls.context();
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    public RawHttp send(String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return this;
    }

    /** Reads whatever arrives for up to {@code millis} or until the server closes; all read so far. */
    public String readFor(long millis) throws IOException {
        long end = System.currentTimeMillis() + millis;
        byte[] buffer = new byte[8192];
        while (!closedByServer && System.currentTimeMillis() < end) {
            try {
                InputStream in = socket.getInputStream();
                int n = in.read(buffer);
                if (n < 0) {
                    closedByServer = true;
                } else {
                    received.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                // nothing yet; look again until the time is up
            } catch (SocketException e) {
                closedByServer = true; // a reset is a close too
            }
        }
        return text();
    }

    /** Reads until the server closes the connection, for at most {@code millis}; whether it did. */
    public boolean closedWithin(long millis) throws IOException {
        readFor(millis);
        return closedByServer;
    }

    /** Writes and reports whether the server still takes bytes (a closed connection resets a write). */
    public boolean writable(String text) {
        try {
            send(text);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String text() {
        return received.toString(StandardCharsets.ISO_8859_1);
    }

    /** The status of every response read so far, in order. */
    public java.util.List<Integer> statuses() {
        java.util.List<Integer> statuses = new java.util.ArrayList<>();
        Matcher m = STATUS_LINE.matcher(text());
        while (m.find()) {
            statuses.add(Integer.parseInt(m.group(1)));
        }
        return statuses;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
