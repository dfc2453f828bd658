package dev.troupe.samples.chat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * HTTP over a plain socket from a chosen loopback source address (Linux routes all of 127/8 to the
 * loopback interface), so a test can be several clients with their own addresses; the JDK's
 * HttpClient always connects from 127.0.0.1.
 */
final class RawHttp {
  static final Duration READ_TIMEOUT = Duration.ofSeconds(20);

  private RawHttp() {}

  /** A socket from {@code sourceIp} to the chat's port on 127.0.0.1. */
  static Socket connect(String sourceIp, int port) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(sourceIp, 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port), (int) READ_TIMEOUT.toMillis());
    socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
    return socket;
  }

  /** {@code GET path} with {@code Connection: close}: the whole response (head and body). */
  static String get(String sourceIp, int port, String path) throws IOException {
    try (Socket socket = connect(sourceIp, port)) {
      socket
          .getOutputStream()
          .write(
              ("GET "
                      + path
                      + " HTTP/1.1\r\nHost: 127.0.0.1:"
                      + port
                      + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      return readToEnd(socket.getInputStream());
    }
  }

  /** The status code of a response read by {@link #get}. */
  static int status(String response) {
    if (!response.startsWith("HTTP/1.1 ")) {
      throw new AssertionError("not an HTTP response: [" + response + "]");
    }
    return Integer.parseInt(response.substring(9, 12));
  }

  /**
   * A WebSocket upgrade of {@code path} from {@code sourceIp}: the open socket once the server
   * answered 101, or an {@link AssertionError} with the server's answer.
   */
  static Socket upgrade(String sourceIp, int port, String path) throws IOException {
    return upgrade(sourceIp, port, path, "");
  }

  /** {@link #upgrade(String, int, String)} with more request headers, each ending in CRLF. */
  static Socket upgrade(String sourceIp, int port, String path, String headers) throws IOException {
    Socket socket = connect(sourceIp, port);
    socket
        .getOutputStream()
        .write(
            ("GET "
                    + path
                    + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + headers
                    + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    String head = readHead(socket.getInputStream());
    if (!head.startsWith("HTTP/1.1 101")) {
      String body = readBody(head, socket.getInputStream());
      socket.close();
      throw new AssertionError("upgrade refused: " + head + body);
    }
    return socket;
  }

  /** The upgrade's answer when it is not 101: the whole response. */
  static String refusedUpgrade(String sourceIp, int port, String path) throws IOException {
    return refusedUpgrade(sourceIp, port, path, "");
  }

  /** {@link #refusedUpgrade(String, int, String)} with more request headers. */
  static String refusedUpgrade(String sourceIp, int port, String path, String headers)
      throws IOException {
    try {
      Socket socket = upgrade(sourceIp, port, path, headers);
      socket.close();
      throw new IllegalStateException("the upgrade was accepted");
    } catch (AssertionError refused) {
      return refused.getMessage().substring("upgrade refused: ".length());
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** The body after {@code head}: Content-Length bytes, or up to the end of the stream. */
  private static String readBody(String head, InputStream in) throws IOException {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        int length = Integer.parseInt(line.substring(15).trim());
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
      }
    }
    return readToEnd(in);
  }

  private static String readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        all.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no end of response within " + READ_TIMEOUT + ": [" + all + "]");
    } catch (IOException reset) {
      // the server closed the connection hard after its answer
    }
    return all.toString(StandardCharsets.UTF_8);
  }
}
