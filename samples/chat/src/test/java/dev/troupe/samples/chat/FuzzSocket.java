package dev.troupe.samples.chat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The fuzzer's raw TCP connection to a node on loopback: bytes out exactly as given, an HTTP
 * response or WebSocket frames in, all bounded in time.
 *
 * <p>Every read waits at most {@code readTimeoutMillis} and never past the connection's deadline; a
 * watchdog closes the socket at the deadline, so even a write the server does not drain (a body it
 * does not read) ends. Nothing this class does can hang the fuzzer.
 */
final class FuzzSocket implements AutoCloseable {
  /** The largest response body or frame payload kept; the rest is read and dropped. */
  private static final int KEEP = 1 << 20;

  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "fuzz-socket-watchdog");
            t.setDaemon(true);
            return t;
          });

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private int readTimeoutMillis;
  private final long deadlineNanos;
  private final ScheduledFuture<?> watchdog;

  /** An HTTP response: its status, headers (names lower case; the last one wins), body. */
  record Response(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** A WebSocket frame from the server. */
  record Frame(boolean fin, int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The close code of a close frame, 1005 (none) when it has no payload. */
    int closeCode() {
      return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  /** The server's bytes are not HTTP. */
  static final class Garbled extends IOException {
    private static final long serialVersionUID = 1L;

    Garbled(String message) {
      super(message);
    }
  }

  private FuzzSocket(Socket socket, int readTimeoutMillis, long lifetimeMillis) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream(), 65_536);
    this.out = socket.getOutputStream();
    this.readTimeoutMillis = readTimeoutMillis;
    this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lifetimeMillis);
    this.watchdog = WATCHDOG.schedule(this::abort, lifetimeMillis + 500, TimeUnit.MILLISECONDS);
  }

  /**
   * Connects to 127.0.0.1:{@code port} (at most 2 s); reads wait at most {@code readTimeoutMillis};
   * the connection is closed after {@code lifetimeMillis} whatever happens.
   */
  static FuzzSocket connect(int port, int readTimeoutMillis, long lifetimeMillis)
      throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
      return new FuzzSocket(socket, readTimeoutMillis, lifetimeMillis);
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** From now on a read waits at most {@code millis}. */
  void readTimeout(int millis) {
    readTimeoutMillis = millis;
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Sends {@code text} as ISO-8859-1: each char one byte, so a test can write any byte. */
  void send(String text) throws IOException {
    send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Half-closes: the server reads the end of the stream, we can still read its answer. */
  void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Closes with a TCP reset instead of a FIN. */
  void abort() {
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException ignored) {
      // closed already
    }
    close();
  }

  @Override
  public void close() {
    watchdog.cancel(false);
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  private int read() throws IOException {
    long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    if (left <= 0) {
      throw new SocketTimeoutException("connection deadline");
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(readTimeoutMillis, left)));
    return in.read();
  }

  private int readByte() throws IOException {
    int b = read();
    if (b < 0) {
      throw new EOFException();
    }
    return b;
  }

  private byte[] readBytes(long n) throws IOException {
    ByteArrayOutputStream kept = new ByteArrayOutputStream((int) Math.min(n, 8192));
    for (long i = 0; i < n; i++) {
      int b = readByte();
      if (i < KEEP) {
        kept.write(b);
      }
    }
    return kept.toByteArray();
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder();
    while (true) {
      int b = readByte();
      if (b == '\n') {
        int end = line.length();
        return end > 0 && line.charAt(end - 1) == '\r'
            ? line.substring(0, end - 1)
            : line.toString();
      }
      if (line.length() > 65_536) {
        throw new Garbled("a response line longer than 64 KiB");
      }
      line.append((char) b);
    }
  }

  /**
   * Reads one response (interim 1xx responses other than 101 are skipped); for a {@code HEAD}
   * request or a 101, 204 or 304 without its body.
   */
  Response readResponse(boolean head) throws IOException {
    while (true) {
      String statusLine = readLine();
      if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
        throw new Garbled("not a status line: [" + abbreviate(statusLine) + "]");
      }
      int status;
      try {
        status = Integer.parseInt(statusLine.substring(9, 12));
      } catch (NumberFormatException e) {
        throw new Garbled("not a status line: [" + abbreviate(statusLine) + "]");
      }
      Map<String, String> headers = new LinkedHashMap<>();
      for (String line = readLine(); !line.isEmpty(); line = readLine()) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.put(
              line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
              line.substring(colon + 1).trim());
        }
      }
      if (status >= 100 && status < 200 && status != 101) {
        continue;
      }
      if (head || status == 101 || status == 204 || status == 304) {
        return new Response(status, headers, new byte[0]);
      }
      String encoding = headers.getOrDefault("transfer-encoding", "");
      if (encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
        return new Response(status, headers, readChunked());
      }
      String length = headers.get("content-length");
      if (length != null) {
        return new Response(status, headers, readBytes(Long.parseLong(length.trim())));
      }
      return new Response(status, headers, readToEnd());
    }
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = readLine();
      int semicolon = size.indexOf(';');
      long n;
      try {
        n = Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new Garbled("bad chunk size [" + abbreviate(size) + "]");
      }
      if (n == 0) {
        while (!readLine().isEmpty()) {
          // trailers
        }
        return body.toByteArray();
      }
      byte[] chunk = readBytes(n);
      if (body.size() < KEEP) {
        body.write(chunk);
      }
      readLine();
    }
  }

  private byte[] readToEnd() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int b = read(); b >= 0; b = read()) {
      if (body.size() < KEEP) {
        body.write(b);
      }
    }
    return body.toByteArray();
  }

  // ---- WebSocket ----

  /** A random {@code Sec-WebSocket-Key}: 16 bytes, base64. */
  static String webSocketKey(Random random) {
    byte[] key = new byte[16];
    random.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** A well-formed upgrade request for {@code path} on {@code port}, from the page's origin. */
  static String upgradeRequest(String path, int port, Random random) {
    return "GET "
        + path
        + " HTTP/1.1\r\nHost: 127.0.0.1:"
        + port
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
        + webSocketKey(random)
        + "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:"
        + port
        + "\r\n\r\n";
  }

  /**
   * A frame as a client would send it, or not: {@code first} is the first byte (FIN, RSV1-3,
   * opcode); {@code declared} the length the header claims (-1: the payload's; any other value is
   * written as it is, a negative one as a 64-bit length with its top bit set); masked with a key
   * from {@code random} unless {@code masked} is false.
   */
  static byte[] frame(int first, boolean masked, byte[] payload, long declared, Random random) {
    long length = declared == -1 ? payload.length : declared;
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
    out.write(first);
    int maskBit = masked ? 0x80 : 0;
    if (length >= 0 && length < 126) {
      out.write(maskBit | (int) length);
    } else if (length >= 0 && length < 65_536) {
      out.write(maskBit | 126);
      out.write((int) (length >>> 8));
      out.write((int) length);
    } else {
      out.write(maskBit | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.write((int) (length >>> shift));
      }
    }
    if (masked) {
      byte[] key = new byte[4];
      random.nextBytes(key);
      out.write(key, 0, 4);
      byte[] maskedPayload = new byte[payload.length];
      for (int i = 0; i < payload.length; i++) {
        maskedPayload[i] = (byte) (payload[i] ^ key[i & 3]);
      }
      out.write(maskedPayload, 0, maskedPayload.length);
    } else {
      out.write(payload, 0, payload.length);
    }
    return out.toByteArray();
  }

  /** A well-formed, masked, final frame of {@code opcode}. */
  static byte[] frame(int opcode, byte[] payload, Random random) {
    return frame(0x80 | opcode, true, payload, -1, random);
  }

  /** A well-formed masked text frame. */
  static byte[] text(String text, Random random) {
    return frame(0x1, text.getBytes(StandardCharsets.UTF_8), random);
  }

  /** A close frame with {@code code} and {@code reason} (raw bytes). */
  static byte[] close(int code, byte[] reason, Random random) {
    byte[] payload = new byte[2 + reason.length];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(reason, 0, payload, 2, reason.length);
    return frame(0x8, payload, random);
  }

  /** Reads the next frame from the server. */
  Frame readFrame() throws IOException {
    int first = readByte();
    int second = readByte();
    long length = second & 0x7f;
    if (length == 126) {
      length = ((long) readByte() << 8) | readByte();
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | readByte();
      }
    }
    if (length < 0 || length > (64L << 20)) {
      throw new Garbled("a server frame of " + length + " bytes");
    }
    byte[] key = (second & 0x80) != 0 ? readBytes(4) : null;
    byte[] payload = readBytes(length);
    if (key != null) {
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= key[i & 3];
      }
    }
    return new Frame((first & 0x80) != 0, first & 0x0f, payload);
  }

  // ---- outcomes ----

  /** What an exception says about the connection, as a word for the fuzzer's table. */
  static String outcome(Exception e) {
    if (e instanceof SocketTimeoutException) {
      return "timeout";
    }
    if (e instanceof ConnectException) {
      return "refused";
    }
    if (e instanceof EOFException) {
      return "eof";
    }
    if (e instanceof Garbled) {
      return "garbled";
    }
    String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    if (message.contains("reset")) {
      return "reset";
    }
    if (message.contains("broken pipe")) {
      return "broken-pipe";
    }
    if (message.contains("socket closed") || message.contains("socket is closed")) {
      return "deadline";
    }
    return e.getClass().getSimpleName();
  }

  static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 60) + "...";
  }
}
