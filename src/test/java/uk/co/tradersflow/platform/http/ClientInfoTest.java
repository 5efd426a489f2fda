package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Forwarded hops are IP literals or nothing; limits count IPv6 clients by their /64. */
class ClientInfoTest {

    @Test
    void aHopsPortIsDroppedAndTheAddressCanonicalised() {
        assertThat(ClientInfo.address("203.0.113.7")).hasValue("203.0.113.7");
        assertThat(ClientInfo.address("203.0.113.7:51234")).hasValue("203.0.113.7");
        assertThat(ClientInfo.address("[2001:DB8::1]:443")).hasValue("2001:db8:0:0:0:0:0:1");
        assertThat(ClientInfo.address("2001:db8::1")).hasValue("2001:db8:0:0:0:0:0:1");
        assertThat(ClientInfo.address("::ffff:203.0.113.7")).hasValue("203.0.113.7");
    }

    @Test
    void anythingButAnIpLiteralIsRefusedAndNeverResolved() {
        for (String hop : new String[] {
            "dead", "localhost", "1234", "203.0.113.7:80:90", "[2001:db8::1", "unknown", "203.0.113.300", ""
        }) {
            assertThat(ClientInfo.address(hop)).as(hop).isEmpty();
        }
    }

    @Test
    void limitsCountAnIpv6ClientByItsSlash64AndIpv4ByItsAddress() {
        assertThat(ClientInfo.limitKey("2001:db8:1:2:aaaa::1"))
                .isEqualTo(ClientInfo.limitKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"))
                .isEqualTo("20010db800010002::/64");
        assertThat(ClientInfo.limitKey("2001:db8:1:3::1")).isNotEqualTo(ClientInfo.limitKey("2001:db8:1:2::1"));
        assertThat(ClientInfo.limitKey("203.0.113.7")).isEqualTo("203.0.113.7");
        assertThat(ClientInfo.limitKey("0:0:0:0:0:ffff:cb00:7107")).isEqualTo("203.0.113.7");
    }
}
