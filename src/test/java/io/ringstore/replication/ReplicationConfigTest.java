package io.ringstore.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicationConfigTest {
    @Test
    void peersParseWithDefaultPortsAndV6Brackets() {
        Map<String, InetSocketAddress> p = ReplicationConfig.parsePeers(" b2=192.168.1.12:7500, b3 = pi3.lan ,b4=[fe80::1]:7412,b5=[::1]");
        assertEquals(List.of("b2", "b3", "b4", "b5"), List.copyOf(p.keySet()));
        assertEquals(InetSocketAddress.createUnresolved("192.168.1.12", 7500), p.get("b2"));
        assertEquals(InetSocketAddress.createUnresolved("pi3.lan", ReplicationConfig.DEFAULT_PORT), p.get("b3"));
        assertEquals(InetSocketAddress.createUnresolved("fe80::1", 7412), p.get("b4"));
        assertEquals(InetSocketAddress.createUnresolved("::1", ReplicationConfig.DEFAULT_PORT), p.get("b5"));
        assertEquals(InetSocketAddress.createUnresolved("0.0.0.0", 7411), ReplicationConfig.parseAddress(":7411"));
        // A bare IPv6 address is all host: its port is the default (brackets to give one).
        assertEquals(InetSocketAddress.createUnresolved("fe80::1", ReplicationConfig.DEFAULT_PORT),
                ReplicationConfig.parseAddress("fe80::1"));
    }

    @Test
    void badPeersSayWhy() {
        for (String[] bad : List.of(new String[] {"b2", "expected name=host:port"},
                new String[] {"B2=h", "board name"}, new String[] {"b2=h:0", "port out of range"},
                new String[] {"b2=h:x", "not a port number"}, new String[] {"b2=h, b2=g", "named twice"},
                new String[] {"b2=[::1", "unclosed ["})) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReplicationConfig.parsePeers(bad[0]));
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
        }
    }
}
