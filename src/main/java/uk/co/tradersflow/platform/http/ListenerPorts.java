package uk.co.tradersflow.platform.http;

import io.vertx.core.Future;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import uk.co.tradersflow.config.AppConfig;
import uk.co.tradersflow.config.ConfigException;

/**
 * Checks, before anything slow or lasting happens (migrations, keys, Vert.x), that the listeners'
 * ports can be bound on {@code TF_BIND_ADDRESS}, so that a port already in use stops start-up at
 * once with one line naming the setting and the port, instead of Netty's bare
 * "bind(..) failed: Address already in use" after the database was migrated.
 */
public final class ListenerPorts {
    private ListenerPorts() {}

    /** The listeners' ports by the setting that names them. */
    public static Map<String, Integer> of(AppConfig config) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("TF_HTTPS_PORT", config.http().httpsPort());
        ports.put("TF_HTTP_PORT", config.http().httpPort());
        return ports;
    }

    /**
     * Binds each port for a moment and lets it go. Port 0 (any free port) needs no check. The
     * listeners bind moments later, so another process could still take a port in between; that
     * race is rare, and the listen itself then fails start-up too.
     */
    public static void requireBindable(String bindAddress, Map<String, Integer> ports) {
        Map<Integer, String> seen = new LinkedHashMap<>();
        ports.forEach((setting, port) -> {
            String other = seen.putIfAbsent(port, setting);
            if (port != 0 && other != null) {
                throw new ConfigException(
                        other + " and " + setting + " are both port " + port + "; the listeners need one each");
            }
        });
        InetAddress address;
        try {
            // An IP literal (ConfigLoader checks): parsed, never looked up.
            address = InetAddress.getByName(bindAddress);
        } catch (IOException e) {
            throw new ConfigException("setting TF_BIND_ADDRESS is invalid: " + bindAddress + " is not an IP address");
        }
        ports.forEach((setting, port) -> {
            if (port == 0) {
                return;
            }
            try (ServerSocket socket = new ServerSocket()) {
                // As the listeners do (Vert.x sets SO_REUSEADDR), so a port in TIME_WAIT is not refused here.
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(address, port));
            } catch (BindException e) {
                throw new ConfigException(why(setting, port, bindAddress, String.valueOf(e.getMessage())));
            } catch (IOException e) {
                throw new ConfigException(
                        setting + ": cannot listen on port " + port + " at " + bindAddress + ": " + e.getMessage());
            }
        });
    }

    /**
     * For the listen itself, should a port be taken after the check: Netty's bind failure (with
     * epoll not a {@link BindException}, only its message says so) becomes the same one line.
     */
    public static <T> Function<Throwable, Future<T>> nameBindFailure(String setting, int port, String bindAddress) {
        return e -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
                String message = String.valueOf(t.getMessage());
                if (t instanceof BindException
                        || message.startsWith("bind(")
                        || message.contains("Address already in use")) {
                    return Future.failedFuture(new ConfigException(why(setting, port, bindAddress, message)));
                }
            }
            return Future.failedFuture(e);
        };
    }

    private static String why(String setting, int port, String bindAddress, String message) {
        if (message.contains("in use")) {
            return setting + ": port " + port + " is already in use on " + bindAddress
                    + " (another process listens there); stop it or set " + setting + " to a free port";
        }
        if (message.contains("assign requested address")) {
            return "setting TF_BIND_ADDRESS is invalid: " + bindAddress
                    + " is not an address of this host (listening for " + setting + " " + port + ")";
        }
        if (message.contains("ermission")) {
            return setting + ": port " + port + " needs privileges this process does not have; use a port above 1023";
        }
        return setting + ": cannot listen on port " + port + " at " + bindAddress + ": " + message;
    }
}
