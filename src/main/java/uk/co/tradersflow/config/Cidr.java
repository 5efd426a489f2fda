package uk.co.tradersflow.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 network, for deciding whether a peer is a trusted proxy. */
public record Cidr(byte[] network, int prefixLength) {

  public static Cidr parse(String text) {
    String[] parts = text.trim().split("/", 2);
    try {
      if (!parts[0].matches("[0-9a-fA-F:.]+")) {
        throw new IllegalArgumentException("not an IP address");
      }
      byte[] address = InetAddress.getByName(parts[0]).getAddress();
      int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
      if (bits < 0 || bits > address.length * 8) {
        throw new IllegalArgumentException("bad prefix length");
      }
      return new Cidr(address, bits);
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("not a CIDR: " + text);
    }
  }

  public boolean contains(String ip) {
    byte[] candidate;
    try {
      if (ip == null || !ip.matches("[0-9a-fA-F:.]+")) {
        return false;
      }
      candidate = InetAddress.getByName(ip).getAddress();
    } catch (UnknownHostException e) {
      return false;
    }
    if (candidate.length != network.length) {
      return false;
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (candidate[full] & mask) == (network[full] & mask);
  }
}
