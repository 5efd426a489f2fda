package uk.co.tradersflow.platform.http;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open connections per client address, across every listener and verticle instance of one
 * Vert.x: the per-IP cap ({@code TF_MAX_CONNECTIONS_PER_IP}) is about what one address costs the
 * process, whichever port or event loop its connections landed on. Loopback is counted like any
 * other address; IPv6 clients by their /64, as the sign-in limits count them, since one
 * subscriber routinely holds a whole /64.
 */
public final class ClientConnections implements Shareable {
    private static final String MAP = "tf.http.clientConnections";

    private final int maxPerAddress;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    ClientConnections(int maxPerAddress) {
        this.maxPerAddress = maxPerAddress;
    }

    /** The one instance of this Vert.x (both listeners share it), created by whichever asks first. */
    public static ClientConnections of(Vertx vertx, int maxPerAddress) {
        LocalMap<String, ClientConnections> map = vertx.sharedData().getLocalMap(MAP);
        ClientConnections created = new ClientConnections(maxPerAddress);
        ClientConnections existing = map.putIfAbsent("all", created);
        return existing == null ? created : existing;
    }

    /** What a connection from {@code address} is counted under: the address, or its /64 for IPv6. */
    static InetAddress clientOf(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 16 bytes is always a valid IPv6 address
        }
    }

    /** Counts a new connection from {@code address}; false (and nothing counted) when it would pass the cap. */
    boolean tryOpen(InetAddress address) {
        boolean[] admitted = {false};
        open.compute(address, (a, count) -> {
            int current = count == null ? 0 : count;
            if (current >= maxPerAddress) {
                return count;
            }
            admitted[0] = true;
            return current + 1;
        });
        return admitted[0];
    }

    void closed(InetAddress address) {
        open.computeIfPresent(address, (a, count) -> count <= 1 ? null : count - 1);
    }

    int openFrom(InetAddress address) {
        return open.getOrDefault(address, 0);
    }

    /** Every open connection, whatever its address. */
    int total() {
        int total = 0;
        for (int count : open.values()) {
            total += count;
        }
        return total;
    }

    /**
     * {@code tf_http_server_connections}: the connections open on this instance's listeners, read
     * from the counts the per-address cap keeps (Vert.x's own HTTP server metrics are off, see
     * {@code Main.vertxOptions}).
     */
    public static void bindTo(MeterRegistry meters, Vertx vertx, int maxPerAddress) {
        Gauge.builder("tf.http.server.connections", of(vertx, maxPerAddress), ClientConnections::total)
                .description("Client connections open on this instance's HTTP and HTTPS listeners")
                .register(meters);
    }
}
