package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * FAULTS.md B6: a thousand idle connections (a slowloris: each sends half a request, then nothing)
 * and idle WebSocket sessions are closed by the server's idle timeout, and the node keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatIdleIT {
  private static final Duration IDLE = Duration.ofSeconds(3);
  private static final int SLOW_CLIENTS = 1000;
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
        Socket socket = new Socket("127.0.0.1", port);
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
