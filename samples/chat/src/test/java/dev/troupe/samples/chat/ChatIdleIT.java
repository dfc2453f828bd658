package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * FAULTS.md B6: a thousand idle connections (a slowloris: each sends half a request, then nothing)
 * and idle WebSocket sessions are closed by the server's idle timeout, and the node keeps serving.
 * Next to it the slow drip (issue 20, item 2): connections that send one header byte a second,
 * which the idle timeout never closes, are closed by {@code chat.limits.first-request-timeout}
 * while a real client chats.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatIdleIT {
  private static final Duration IDLE = Duration.ofSeconds(3);
  private static final Duration FIRST_REQUEST = Duration.ofSeconds(5);
  private static final Duration DRIP = Duration.ofSeconds(1);
  private static final int SLOW_CLIENTS = 1000;
  private static final int DRIP_CLIENTS = 300;
  private static final int DRIP_CROWD = 80;
  private ChatCluster chat;

  @BeforeAll
  void start() {
    chat = new ChatCluster(1, "pekko.http.server.idle-timeout = " + IDLE.toMillis() + "ms");
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  @Test
  void aThousandIdleConnectionsAreClosedByTheIdleTimeoutAndTheNodeKeepsServing() throws Exception {
    int port = chat.port(0);
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < SLOW_CLIENTS; i++) {
        // from 20 loopback addresses, each under chat.limits.connections-per-address (64)
        Socket socket = RawHttp.connect("127.0.1." + (1 + i % 20), port);
        socket
            .getOutputStream()
            .write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
        slow.add(socket);
      }
      List<WsClient> idleSessions = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        idleSessions.add(WsClient.connect(port));
      }
      long started = System.nanoTime();
      // Each slow client must see its connection closed by the server: end of stream (or a
      // reset), never a read that waits past the idle timeout plus a generous margin.
      for (Socket socket : slow) {
        socket.setSoTimeout((int) IDLE.plusSeconds(30).toMillis());
        assertTrue(closedByServer(socket), "a slow connection was left open");
      }
      for (WsClient session : idleSessions) {
        session.awaitClose();
      }
      long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
      assertTrue(seconds <= IDLE.plusSeconds(30).toSeconds(), "closed after " + seconds + " s");

      HttpResponse<String> page = ChatHttp.get(port, "/");
      assertEquals(200, page.statusCode(), "the node still serves");
    } finally {
      for (Socket socket : slow) {
        socket.close();
      }
    }
  }

  @Test
  void slowDripConnectionsAreClosedByTheFirstRequestDeadlineWhileARealClientChats()
      throws Exception {
    // A node of its own, whose idle timeout (60 s) is far beyond the first-request deadline (5 s):
    // a connection closed before 15 s was closed by the deadline.
    try (ChatCluster dripped =
        new ChatCluster(
            1,
            "pekko.http.server.idle-timeout = 60s\nchat.limits.first-request-timeout = "
                + FIRST_REQUEST.toMillis()
                + "ms")) {
      slowDrip(dripped);
    }
  }

  private void slowDrip(ChatCluster chat) throws Exception {
    int port = chat.port(0);
    byte[] head =
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ".getBytes(StandardCharsets.US_ASCII);
    List<SocketChannel> drips = new ArrayList<>();
    Map<SocketChannel, Long> connectedAt = new HashMap<>();
    Map<SocketChannel, Long> closedAt = new HashMap<>(); // nanoseconds after its connect
    try {
      // 300 from ten addresses (30 each) and 80 from one: 64 admitted, 16 past its limit
      for (int i = 0; i < DRIP_CLIENTS + DRIP_CROWD; i++) {
        String source = i < DRIP_CLIENTS ? "127.0.2." + (1 + i % 10) : "127.0.3.1";
        SocketChannel channel = SocketChannel.open();
        channel.bind(new InetSocketAddress(source, 0));
        channel.connect(new InetSocketAddress("127.0.0.1", port));
        channel.write(ByteBuffer.wrap(head, 0, 1)); // a first byte at once: not idle
        channel.configureBlocking(false);
        drips.add(channel);
        connectedAt.put(channel, System.nanoTime());
      }
      CompletableFuture<Void> realClient = new CompletableFuture<>();
      ByteBuffer scratch = ByteBuffer.allocate(4096);
      long deadline = System.nanoTime() + FIRST_REQUEST.plusSeconds(30).toNanos();
      for (int round = 0; closedAt.size() < drips.size() && System.nanoTime() < deadline; round++) {
        byte next = round + 1 < head.length ? head[round + 1] : (byte) 'a';
        for (SocketChannel channel : drips) {
          if (closedAt.containsKey(channel)) {
            continue;
          }
          try {
            channel.write(ByteBuffer.wrap(new byte[] {next}));
            scratch.clear();
            if (channel.read(scratch) < 0) {
              closedAt.put(channel, System.nanoTime() - connectedAt.get(channel));
            }
          } catch (IOException reset) {
            closedAt.put(channel, System.nanoTime() - connectedAt.get(channel));
          }
        }
        if (round == 1) {
          CompletableFuture.runAsync(() -> chatAsARealClient(port, realClient));
        }
        // pacing the drip (one byte a second per connection), not waiting for an event
        LockSupport.parkNanos(DRIP.toNanos());
      }
      realClient.get(60, TimeUnit.SECONDS);
      assertEquals(drips.size(), closedAt.size(), "every dripping connection was closed");
      long earliest = closedAt.values().stream().mapToLong(Long::longValue).min().orElseThrow();
      long latest = closedAt.values().stream().mapToLong(Long::longValue).max().orElseThrow();
      assertTrue(
          earliest >= FIRST_REQUEST.minusMillis(500).toNanos(),
          "closed by the first-request deadline, not earlier: " + earliest / 1_000_000 + " ms");
      assertTrue(
          latest <= FIRST_REQUEST.plusSeconds(10).toNanos(),
          "closed within the deadline and a margin: " + latest / 1_000_000 + " ms");
      ConnectionLimits limits = chat.chats.get(0).connectionLimits();
      Eventually.awaitAssert(
          Duration.ofSeconds(20),
          "the dripping connections' leases are released",
          () -> {
            for (SocketChannel channel : drips) {
              InetAddress source = sourceOf(channel);
              assertEquals(0, limits.held(source), "leases held by " + source);
            }
          });
      System.out.printf(
          "ChatIdleIT: %d dripping connections closed after %d..%d ms%n",
          drips.size(), earliest / 1_000_000, latest / 1_000_000);
    } finally {
      for (SocketChannel channel : drips) {
        channel.close();
      }
    }
  }

  private static InetAddress sourceOf(SocketChannel channel) {
    try {
      return ((InetSocketAddress) channel.getLocalAddress()).getAddress();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** While the drip goes on: the page loads and a WebSocket client's post is acknowledged. */
  private static void chatAsARealClient(int port, CompletableFuture<Void> done) {
    try (WsClient client = WsClient.connect(port)) {
      assertEquals(200, ChatHttp.get(port, "/").statusCode(), "the page during the drip");
      client.join("drip-room", "ann");
      client.awaitType("history", "the room's history during the drip");
      client.post("drip-room", "d1", "still here");
      client.await(
          f -> f.path("type").asText().equals("ack") && f.path("id").asText().equals("d1"),
          "the post during the drip is acknowledged");
      done.complete(null);
    } catch (Throwable e) {
      done.completeExceptionally(e);
    }
  }

  private static boolean closedByServer(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[4096];
    try {
      while (true) {
        int n = in.read(buffer); // a 408 response may come first
        if (n < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset by the server
    }
  }
}
