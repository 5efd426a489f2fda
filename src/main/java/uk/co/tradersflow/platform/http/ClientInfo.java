package uk.co.tradersflow.platform.http;

import io.netty.util.NetUtil;
import io.vertx.ext.web.RoutingContext;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import uk.co.tradersflow.config.Cidr;

/**
 * Who is on the other end: the client IP (from {@code X-Forwarded-For} only when the direct peer
 * is a trusted proxy, walking back past trusted hops) and the user agent, trimmed for storage.
 */
public final class ClientInfo {
    private static final int MAX_USER_AGENT = 512;
    private final List<Cidr> trustedProxies;

    public ClientInfo(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    public record Client(String ip, String userAgent) {}

    public Client of(RoutingContext ctx) {
        return new Client(ip(ctx), userAgent(ctx));
    }

    public String ip(RoutingContext ctx) {
        String peer = ctx.request().remoteAddress() == null
                ? "0.0.0.0"
                : ctx.request().remoteAddress().hostAddress();
        if (!isTrusted(peer)) {
            return peer;
        }
        List<String> forwarded = ctx.request().headers().getAll("X-Forwarded-For");
        String chain = String.join(",", forwarded);
        String[] hops = chain.split(",");
        String candidate = peer;
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (hop.isEmpty()) {
                continue;
            }
            Optional<String> address = address(hop);
            if (address.isEmpty()) {
                // Not an address: nothing before it can be believed either.
                break;
            }
            candidate = address.get();
            if (!isTrusted(candidate)) {
                break;
            }
        }
        return candidate;
    }

    /**
     * The IP address a forwarded hop names, in canonical form: some proxies append a port
     * ({@code 1.2.3.4:5678}, {@code [2001:db8::1]:443}), which would otherwise make every source
     * port a client of its own and fail the database's {@code inet} column. Literals only; a name
     * is never resolved.
     */
    static Optional<String> address(String hop) {
        String host = hop;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                return Optional.empty();
            }
            host = host.substring(1, close);
        } else if (host.indexOf(':') == host.lastIndexOf(':') && host.indexOf(':') > 0) {
            host = host.substring(0, host.indexOf(':'));
        }
        return literal(host).map(InetAddress::getHostAddress);
    }

    /**
     * What per-client limits count under: the address itself for IPv4, its /64 for IPv6, since
     * one subscriber is routinely handed a whole /64 and could otherwise rotate through it.
     */
    public static String limitKey(String ip) {
        return literal(ip)
                .map(address -> address instanceof Inet4Address
                        ? address.getHostAddress()
                        : HexFormat.of().formatHex(address.getAddress(), 0, 8) + "::/64")
                .orElse(ip);
    }

    /**
     * An IP literal as an address, never a name looked up. An IPv4-mapped IPv6 literal comes
     * back as the IPv4 address it maps.
     */
    private static Optional<InetAddress> literal(String text) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(text);
        try {
            return bytes == null ? Optional.empty() : Optional.of(InetAddress.getByAddress(bytes));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** The scheme the client used: {@code X-Forwarded-Proto} is believed only from a trusted proxy. */
    public boolean isHttps(RoutingContext ctx) {
        String peer = ctx.request().remoteAddress() == null
                ? ""
                : ctx.request().remoteAddress().hostAddress();
        if (isTrusted(peer)) {
            String proto = ctx.request().getHeader("X-Forwarded-Proto");
            if (proto != null) {
                return proto.trim().equalsIgnoreCase("https");
            }
        }
        return ctx.request().isSSL();
    }

    private boolean isTrusted(String ip) {
        for (Cidr cidr : trustedProxies) {
            if (cidr.contains(ip)) {
                return true;
            }
        }
        return false;
    }

    private static String userAgent(RoutingContext ctx) {
        String ua = ctx.request().getHeader("User-Agent");
        if (ua == null) {
            return "";
        }
        String clean = ua.replaceAll("\\p{Cntrl}", "");
        return clean.length() > MAX_USER_AGENT ? clean.substring(0, MAX_USER_AGENT) : clean;
    }
}
