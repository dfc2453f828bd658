package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.cron.Cron;
import dev.troupe.testkit.Eventually;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The chat on a 3-node in-JVM cluster, through its HTTP and WebSocket endpoints: messages across
 * nodes, history, the dashboard, the cron job, the archiver and every kind of bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(40);

  private ChatCluster chat;

  @BeforeAll
  void start() {
    chat = new ChatCluster(3);
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  private int port(int i) {
    return chat.port(i);
  }

  private static boolean isMessage(JsonNode f, String text) {
    return f.path("type").asText().equals("message") && f.path("text").asText().equals(text);
  }

  @Test
  void usersOnDifferentNodesSeeEachOthersMessagesAndNewcomersGetTheHistory() throws Exception {
    try (WsClient ann = WsClient.connect(port(0));
        WsClient bob = WsClient.connect(port(2))) {
      ann.join("lobby", "ann");
      ann.awaitType("history", "ann's history");
      bob.join("lobby", "bob");
      bob.awaitType("history", "bob's history");

      ann.post("lobby", "a1", "hello from node 0");
      JsonNode ack =
          ann.await(
              f -> f.path("type").asText().equals("ack") && f.path("id").asText().equals("a1"),
              "ack");
      assertTrue(ack.path("seq").asLong() >= 1);
      JsonNode atBob = bob.await(f -> isMessage(f, "hello from node 0"), "ann's message at bob");
      assertEquals("ann", atBob.path("user").asText());
      assertEquals(ack.path("seq").asLong(), atBob.path("seq").asLong());

      bob.post("lobby", "b1", "hi from node 2");
      ann.await(f -> isMessage(f, "hi from node 2"), "bob's message at ann");

      try (WsClient cid = WsClient.connect(port(1))) {
        cid.join("lobby", "cid");
        JsonNode history = cid.awaitType("history", "cid's history");
        List<String> texts = new ArrayList<>();
        history.path("messages").forEach(m -> texts.add(m.path("text").asText()));
        assertTrue(
            texts.containsAll(List.of("hello from node 0", "hi from node 2")), texts.toString());
        Set<String> users = new HashSet<>();
        history.path("users").forEach(u -> users.add(u.asText()));
        assertTrue(users.containsAll(Set.of("ann", "bob", "cid")), users.toString());
      }
    }
  }

  @Test
  void theDashboardShowsTheMembersTheRoomsAndTheTroupeParts() throws Exception {
    try (WsClient dee = WsClient.connect(port(1))) {
      dee.join("dashboard-room", "dee");
      dee.awaitType("history", "history");
      dee.post("dashboard-room", "d1", "count me");
      dee.awaitType("ack", "ack");
    }
    HttpClient http = HttpClient.newHttpClient();
    Eventually.awaitAssert(
        TIMEOUT,
        "the dashboard lists 3 members and the room",
        () -> {
          JsonNode s = get(http, port(2), "/api/dashboard");
          assertEquals(3, s.path("members").size(), s.toString());
          s.path("members").forEach(m -> assertEquals("Up", m.path("status").asText()));
          assertEquals(3, s.path("ring").size());
          boolean room = false;
          for (JsonNode r : s.path("rooms")) {
            room |=
                r.path("room").asText().equals("dashboard-room")
                    && r.path("messages").asLong() >= 1;
          }
          assertTrue(room, s.path("rooms").toString());
          assertTrue(s.path("daemons").toString().contains("room-stats"), s.toString());
          assertTrue(s.path("cron").toString().contains("close-idle-rooms"), s.toString());
          assertEquals(3, s.path("groups").path("troupe-cron-agents").size(), s.toString());
          assertTrue(s.path("oldest").asText().startsWith("pekko://"));
        });
    try (WsClient feed = WsClient.connect(port(0), "/dashboard/ws", null)) {
      JsonNode pushed = feed.await(f -> f.has("members"), "a pushed snapshot");
      assertEquals(3, pushed.path("members").size());
    }
    HttpResponse<String> metrics =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(0) + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("chat_connections"), metrics.body());
    // Troupe's meters, on the node's registry, reach the chat's Prometheus endpoint
    assertTrue(metrics.body().contains("troupe_cron_scheduler_active"), metrics.body());
    // Health is Pekko Management's: Troupe's checks, the chat's and the cluster membership check.
    int management = chat.node(0).managementUri().orElseThrow().getPort();
    assertEquals(200, status(http, management, "/alive"));
    assertEquals(200, status(http, management, "/ready"));
    JsonNode members = get(http, management, "/cluster/members");
    assertEquals(3, members.path("members").size(), members.toString());
    assertEquals(200, status(http, port(0), "/"));
    assertEquals(200, status(http, port(0), "/dashboard"));
  }

  @Test
  void theDashboardIsBuiltOnlyWhileSomeoneWatches() {
    // Node 1's dashboard: no test reads it (only node 0's and node 2's).
    Dashboard dashboard = chat.chats.get(1).dashboard();
    long[] since = {dashboard.builds(), dashboard.observations()};
    Eventually.awaitCondition(
        TIMEOUT,
        "three refreshes in a row that only observed, building nothing",
        () -> {
          if (dashboard.builds() != since[0]) {
            since[0] = dashboard.builds();
            since[1] = dashboard.observations();
          }
          return dashboard.observations() >= since[1] + 3;
        });
    long builtBefore = dashboard.builds();
    JsonNode s = get(HttpClient.newHttpClient(), port(1), "/api/dashboard");
    assertEquals(3, s.path("members").size(), s.toString());
    Eventually.awaitCondition(
        TIMEOUT,
        "once read, snapshots are built every interval",
        () -> dashboard.builds() >= builtBefore + 3);
  }

  private static JsonNode get(HttpClient http, int port, String path) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static int status(HttpClient http, int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  void badFramesGetAnErrorAndTheConnectionStays() throws Exception {
    try (WsClient eve = WsClient.connect(port(0))) {
      eve.send("{not json");
      assertTrue(
          eve.awaitType("error", "malformed").path("error").asText().contains("malformed JSON"));
      eve.send("{\"type\":\"shout\"}");
      assertTrue(eve.awaitType("error", "unknown").path("error").asText().contains("[shout]"));
      eve.send("[1,2]");
      eve.awaitType("error", "not an object");
      eve.post("secret", "x1", "let me in");
      JsonNode notJoined = eve.awaitType("error", "post without join");
      assertTrue(
          notJoined.path("error").asText().contains("join room [secret]"), notJoined.toString());
      assertEquals("x1", notJoined.path("id").asText());
      eve.send("{\"type\":\"join\",\"room\":\"bad room!\",\"user\":\"eve\"}");
      assertTrue(eve.awaitType("error", "bad room").path("error").asText().contains("[bad room!]"));
      eve.sendBinary(new byte[] {1, 2, 3});
      assertTrue(eve.awaitType("error", "binary").path("error").asText().contains("binary"));

      String script = "<img src=x onerror=alert(1)>";
      eve.join("safe", script);
      eve.awaitType("history", "history");
      eve.post("safe", "s1", "<script>alert(2)</script>");
      JsonNode echoed = eve.await(f -> f.path("type").asText().equals("message"), "own message");
      assertEquals(
          script, echoed.path("user").asText(), "names are data, shown as text by the page");

      eve.send("{\"type\":\"ping\"}");
      eve.awaitType("pong", "the connection is still open");
    }
  }

  @Test
  void theRateLimitRefusesTheExcessAndKeepsTheConnection() throws Exception {
    try (WsClient fay = WsClient.connect(port(1))) {
      fay.join("fast", "fay");
      fay.awaitType("history", "history");
      for (int i = 0; i < 20; i++) {
        fay.post("fast", "f" + i, "burst " + i);
      }
      JsonNode limited =
          fay.await(f -> f.path("error").asText().contains("rate limit"), "rate limited");
      assertTrue(limited.has("id"));
      fay.send("{\"type\":\"ping\"}");
      fay.awaitType("pong", "still open");
    }
  }

  @Test
  void anOversizedFrameClosesTheConnectionAfterAnError() throws Exception {
    try (WsClient big = WsClient.connect(port(2))) {
      big.send("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(4096) + "\"}");
      assertTrue(big.awaitType("error", "too big").path("error").asText().contains("too big"));
      big.awaitClose();
    }
    try (WsClient after = WsClient.connect(port(2))) {
      after.send("{\"type\":\"ping\"}");
      after.awaitType("pong", "the node still serves");
    }
  }

  @Test
  void aForeignOriginIsRefused() {
    Exception refused =
        assertThrows(
            Exception.class, () -> WsClient.connect(port(0), "/ws", "http://evil.example"));
    Throwable cause = refused;
    while (cause != null && !(cause instanceof java.net.http.WebSocketHandshakeException)) {
      cause = cause.getCause();
    }
    assertTrue(cause != null, refused.toString());
    assertEquals(
        403, ((java.net.http.WebSocketHandshakeException) cause).getResponse().statusCode());
  }

  @Test
  void invalidUtf8ClosesTheConnectionWith1007AndTheNodeKeepsServing() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port(0))) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      String key =
          Base64.getEncoder()
              .encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
      out.write(
          ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port(0)
                  + "\r\nUpgrade: websocket\r\n"
                  + "Connection: Upgrade\r\nSec-WebSocket-Key: "
                  + key
                  + "\r\n"
                  + "Sec-WebSocket-Version: 13\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      String head = readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 101"), head);
      byte[] payload = {(byte) 0xC3, (byte) 0x28}; // not UTF-8
      byte[] mask = {1, 2, 3, 4};
      out.write(new byte[] {(byte) 0x81, (byte) (0x80 | payload.length)});
      out.write(mask);
      out.write(new byte[] {(byte) (payload[0] ^ mask[0]), (byte) (payload[1] ^ mask[1])});
      out.flush();
      int opcode = in.read() & 0x0F;
      int length = in.read() & 0x7F;
      assertEquals(8, opcode, "a close frame");
      assertTrue(length >= 2);
      int code = (in.read() << 8) | in.read();
      assertEquals(1007, code, "close code: inconsistent data");
    }
    try (WsClient after = WsClient.connect(port(0))) {
      after.send("{\"type\":\"ping\"}");
      after.awaitType("pong", "the node still serves");
    }
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  @Test
  void theCronJobClosesIdleRoomsWithANotice() throws Exception {
    try (WsClient gus = WsClient.connect(port(1))) {
      gus.join("sleepy", "gus");
      gus.awaitType("history", "history");
      // The room closes once nobody posted for chat.idle-room-timeout (2 s here).
      JsonNode[] notice = new JsonNode[1];
      Eventually.awaitCondition(
          TIMEOUT,
          "the room is closed for inactivity",
          () -> {
            Cron.get(chat.node(0)).triggerNow("close-idle-rooms").toCompletableFuture().join();
            notice[0] =
                gus.tryAwait(f -> f.path("type").asText().equals("notice"), Duration.ofSeconds(1))
                    .orElse(null);
            return notice[0] != null;
          });
      assertEquals("sleepy", notice[0].path("room").asText());
      assertTrue(notice[0].path("text").asText().contains("closed"), notice[0].toString());
      gus.post("sleepy", "g1", "anyone?");
      JsonNode refused = gus.awaitType("error", "posting to a closed room");
      assertTrue(refused.path("error").asText().contains("join room [sleepy]"), refused.toString());
    }
  }

  @Test
  void theLeaderOnlyArchiverMovesOldMessagesOnce() throws Exception {
    try (WsClient hal = WsClient.connect(port(2))) {
      hal.join("archive-me", "hal");
      hal.awaitType("history", "history");
      for (int i = 0; i < 3; i++) {
        hal.post("archive-me", "h" + i, "old news " + i);
        hal.await(f -> f.path("type").asText().equals("ack"), "ack");
      }
    }
    ChatStore store = chat.chats.get(0).store();
    Eventually.awaitAssert(
        TIMEOUT,
        "the messages are archived",
        () -> assertTrue(store.archived() >= 3, "archived: " + store.archived()));
  }
}
