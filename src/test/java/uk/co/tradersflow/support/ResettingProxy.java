package uk.co.tradersflow.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay to a real server (PostgreSQL) that can reset every connection through it at
 * once, as a crashing or restarting dependency does: the client side sees "Connection reset".
 */
public final class ResettingProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    public ResettingProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "resetting-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket downstream = listener.accept();
                Socket upstream = new Socket(targetHost, targetPort);
                sockets.add(downstream);
                sockets.add(upstream);
                pump(downstream, upstream);
                pump(upstream, downstream);
            } catch (IOException e) {
                // listener closed, or the target refused: the client sees its connection end
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        Thread t = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        for (int n; (n = in.read(buffer)) >= 0; ) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    } catch (IOException e) {
                        // one side reset or closed: the other pump ends too
                    }
                },
                "resetting-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    /** Closes every relayed connection with a TCP reset (SO_LINGER 0), both towards the client and the server. */
    public void resetAll() throws IOException {
        for (Socket s : sockets) {
            try {
                s.setSoLinger(true, 0);
                s.close();
            } catch (SocketException closedMeanwhile) {
                // a pump closed it when its other side ended, between the loop reaching it and now
            }
        }
        sockets.clear();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        resetAll();
    }
}
