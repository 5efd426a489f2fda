package uk.co.tradersflow.config;

import io.netty.util.NetUtil;

/** An IPv4 or IPv6 network, for deciding whether a peer is a trusted proxy. */
public record Cidr(byte[] network, int prefixLength) {

    public static Cidr parse(String text) {
        String[] parts = text.trim().split("/", 2);
        try {
            byte[] address = literal(parts[0]);
            if (address == null) {
                throw new IllegalArgumentException("not a CIDR: " + text);
            }
            int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
            if (bits < 0 || bits > address.length * 8) {
                throw new IllegalArgumentException("bad prefix length");
            }
            return new Cidr(address, bits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a CIDR: " + text);
        }
    }

    /**
     * The bytes of an IP literal, or null. Never {@code InetAddress.getByName}: given something
     * that only looks like an address (say {@code "dead"}) it would ask DNS, on an event loop.
     */
    private static byte[] literal(String text) {
        return text == null ? null : NetUtil.createByteArrayFromIpAddressString(text);
    }

    public boolean contains(String ip) {
        byte[] candidate = literal(ip);
        if (candidate == null || candidate.length != network.length) {
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
