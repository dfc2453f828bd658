package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.troupe.testkit.Eventually;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 20, item 2: what one client and the node may hold (chat.limits). Past a limit the client is
 * told so — an error frame naming the setting, or a 503 before the upgrade — and the node keeps
 * serving everyone else. Clients are told apart by their loopback source addresses (127.0.0.x).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatLimitsIT {
  private static final int ROOMS = 3;
  private static final int PER_ADDRESS = 4;
  private static final int PER_NODE = 7;
  private static final Duration SETTLE = Duration.ofSeconds(20);
  private ChatCluster chat;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeAll
  void start() {
    chat =
        new ChatCluster(
            1,
            "chat.limits { rooms-per-connection = "
                + ROOMS
                + ", connections-per-address = "
                + PER_ADDRESS
                + ", connections-per-node = "
                + PER_NODE
                + " }");
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  @AfterEach
  void closeClients() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    open.clear();
    ConnectionLimits limits = chat.chats.get(0).connectionLimits();
    Eventually.awaitAssert(
        SETTLE,
        "every connection's lease is released",
        () -> {
          assertEquals(0, limits.webSockets(), "WebSockets held");
          assertEquals(0, limits.addresses(), "addresses holding a connection");
        });
  }

  @Test
  void aConnectionJoinsAtMostTheRoomLimitAndMayJoinAnotherAfterLeavingOne() throws Exception {
    WsClient client = WsClient.connect(chat.port(0));
    open.add(client);
    for (int i = 0; i < ROOMS; i++) {
      client.join("limits-" + i, "ann");
      client.awaitType("history", "history of room " + i);
    }
    client.join("limits-extra", "ann");
    JsonNode error = client.awaitType("error", "the refusal of a room past the limit");
    assertTrue(
        error.path("error").asText().contains("chat.limits.rooms-per-connection"),
        "names the setting: " + error);

    client.send("{\"type\":\"leave\",\"room\":\"limits-0\"}");
    client.join("limits-extra", "ann");
    client.awaitType("history", "the history of the room joined after leaving one");
    client.post("limits-extra", "p1", "hello");
    client.await(
        f -> f.path("type").asText().equals("ack") && f.path("id").asText().equals("p1"),
        "the post in the new room is acknowledged");
  }

  @Test
  void anAddressPastItsLimitGets503AndOtherAddressesAreServed() throws Exception {
    int port = chat.port(0);
    for (int i = 0; i < PER_ADDRESS; i++) {
      open.add(RawHttp.upgrade("127.0.0.2", port, "/ws")::close);
    }
    ConnectionLimits limits = chat.chats.get(0).connectionLimits();
    InetAddress crowded = InetAddress.getByName("127.0.0.2");
    Eventually.awaitAssert(
        SETTLE,
        "the upgraded connections hold one lease each",
        () -> assertEquals(PER_ADDRESS, limits.held(crowded)));

    String refused = RawHttp.get("127.0.0.2", port, "/");
    assertEquals(503, RawHttp.status(refused), refused);
    assertTrue(refused.contains("chat.limits.connections-per-address"), refused);
    assertTrue(refused.contains("127.0.0.2"), "names the address: " + refused);

    assertEquals(200, RawHttp.status(RawHttp.get("127.0.0.3", port, "/")), "another address");
    WsClient other = WsClient.connect(port);
    open.add(other);
    other.join("limits-other", "bob");
    other.awaitType("history", "a client of another address joins a room");

    // one of the crowded address's connections ends: it may connect again
    open.remove(0).close();
    Eventually.awaitAssert(
        SETTLE,
        "the address may connect again once one of its connections closed",
        () -> {
          try {
            assertEquals(200, RawHttp.status(RawHttp.get("127.0.0.2", port, "/")));
          } catch (IOException e) {
            throw new AssertionError(e);
          }
        });
  }

  @Test
  void aFullNodeRefusesUpgradesWith503AndStillServesPagesAndItsWebSockets() throws Exception {
    int port = chat.port(0);
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < PER_NODE; i++) {
      // two per address, on addresses 127.0.0.10.. (each under its own limit)
      Socket socket =
          RawHttp.upgrade("127.0.0." + (10 + i / 2), port, i % 2 == 0 ? "/ws" : "/dashboard/ws");
      sockets.add(socket);
      open.add(socket::close);
    }
    String refused = RawHttp.refusedUpgrade("127.0.0.30", port, "/ws");
    assertEquals(503, RawHttp.status(refused), refused);
    assertTrue(refused.contains("chat.limits.connections-per-node"), refused);
    String dashboardRefused = RawHttp.refusedUpgrade("127.0.0.31", port, "/dashboard/ws");
    assertEquals(503, RawHttp.status(dashboardRefused), dashboardRefused);
    assertEquals(200, RawHttp.status(RawHttp.get("127.0.0.30", port, "/")), "pages still served");
    assertEquals(PER_NODE, chat.chats.get(0).connectionLimits().webSockets());

    sockets.get(0).close();
    Eventually.awaitAssert(
        SETTLE,
        "a WebSocket is accepted again once one closed",
        () -> {
          try {
            open.add(RawHttp.upgrade("127.0.0.30", port, "/ws")::close);
          } catch (IOException e) {
            throw new AssertionError(e);
          }
        });
  }
}
