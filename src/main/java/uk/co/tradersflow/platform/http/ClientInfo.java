package uk.co.tradersflow.platform.http;

import io.vertx.ext.web.RoutingContext;
import java.util.List;
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
    String peer = ctx.request().remoteAddress() == null ? "0.0.0.0" : ctx.request().remoteAddress().hostAddress();
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
      candidate = hop;
      if (!isTrusted(hop)) {
        break;
      }
    }
    return candidate.matches("[0-9a-fA-F:.]{2,45}") ? candidate : peer;
  }

  /** The scheme the client used: {@code X-Forwarded-Proto} is believed only from a trusted proxy. */
  public boolean isHttps(RoutingContext ctx) {
    String peer = ctx.request().remoteAddress() == null ? "" : ctx.request().remoteAddress().hostAddress();
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
