package uk.co.tradersflow.platform.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class ClientConnectionsTest {

    @Test
    void theCapHoldsPerClientAndAClosedConnectionFreesItsPlace() throws Exception {
        ClientConnections connections = new ClientConnections(2);
        InetAddress a = InetAddress.getByName("127.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.7");

        assertThat(connections.tryOpen(a)).isTrue();
        assertThat(connections.tryOpen(a)).isTrue();
        assertThat(connections.tryOpen(a)).as("third from loopback").isFalse();
        assertThat(connections.tryOpen(b))
                .as("another address has its own count")
                .isTrue();
        assertThat(connections.openFrom(a)).isEqualTo(2);

        connections.closed(a);
        assertThat(connections.tryOpen(a)).isTrue();
        connections.closed(a);
        connections.closed(a);
        assertThat(connections.openFrom(a)).isZero();
    }

    @Test
    void ipv6ClientsAreCountedByTheirSlash64AndIpv4ByTheAddress() throws Exception {
        InetAddress one = ClientConnections.clientOf(InetAddress.getByName("2001:db8:1:2::1"));
        InetAddress other = ClientConnections.clientOf(InetAddress.getByName("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        InetAddress nextNet = ClientConnections.clientOf(InetAddress.getByName("2001:db8:1:3::1"));

        assertThat(one).isEqualTo(other).isNotEqualTo(nextNet);
        assertThat(ClientConnections.clientOf(InetAddress.getByName("192.0.2.1")))
                .isNotEqualTo(ClientConnections.clientOf(InetAddress.getByName("192.0.2.2")));
    }
}
