package dev.troupe.samples.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A test's chat client: the JDK's WebSocket, frames parsed as JSON into a queue. */
final class WsClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final long POLL = TimeUnit.MILLISECONDS.toNanos(100);

  private final LinkedBlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
  private final List<JsonNode> all = new ArrayList<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final java.util.Map<String, Long> acks = new java.util.concurrent.ConcurrentHashMap<>();
  private final WebSocket socket;

  private WsClient(int port, String path, String origin) throws Exception {
    WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder();
    if (origin != null) {
      builder.header("Origin", origin);
    }
    socket =
        builder
            .connectTimeout(TIMEOUT)
            .buildAsync(URI.create("ws://127.0.0.1:" + port + path), new Listener())
            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  static WsClient connect(int port) throws Exception {
    return new WsClient(port, "/ws", "http://127.0.0.1:" + port);
  }

  static WsClient connect(int port, String path, String origin) throws Exception {
    return new WsClient(port, path, origin);
  }

  private final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          JsonNode frame = JSON.readTree(partial.toString());
          if (frame.path("type").asText().equals("ack")) {
            acks.put(frame.path("id").asText(), frame.path("seq").asLong());
          }
          frames.add(frame);
        } catch (Exception e) {
          frames.add(
              JSON.createObjectNode().put("type", "unparsable").put("text", partial.toString()));
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.complete(-1);
    }
  }

  void send(String json) {
    socket.sendText(json, true).join();
  }

  void sendBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
  }

  void join(String room, String user) {
    send("{\"type\":\"join\",\"room\":\"" + room + "\",\"user\":" + JSON.valueToTree(user) + "}");
  }

  void post(String room, String id, String text) {
    send(
        "{\"type\":\"post\",\"room\":\""
            + room
            + "\",\"id\":\""
            + id
            + "\",\"text\":"
            + JSON.valueToTree(text)
            + "}");
  }

  /** The next frame matching {@code match} (earlier frames are kept in {@link #seen()}). */
  JsonNode await(Predicate<JsonNode> match, String what) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    for (JsonNode seen : all) {
      if (match.test(seen)) {
        all.remove(seen);
        return seen;
      }
    }
    while (true) {
      long left = deadline - System.nanoTime();
      JsonNode frame;
      try {
        frame = left > 0 ? frames.poll(Math.min(left, POLL), TimeUnit.NANOSECONDS) : null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      if (frame == null && closed.isDone() && frames.isEmpty()) {
        // the listener delivers every frame before the close: nothing more can come
        throw new AssertionError(
            "no frame: " + what + " before the close (" + closed.join() + "); seen: " + all);
      }
      if (frame == null && left <= 0) {
        throw new AssertionError("no frame: " + what + " within " + TIMEOUT + "; seen: " + all);
      }
      if (frame == null) {
        continue;
      }
      if (match.test(frame)) {
        return frame;
      }
      all.add(frame);
    }
  }

  /** The next frame matching {@code match} within {@code wait}, if one comes. */
  java.util.Optional<JsonNode> tryAwait(Predicate<JsonNode> match, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    for (JsonNode seen : all) {
      if (match.test(seen)) {
        all.remove(seen);
        return java.util.Optional.of(seen);
      }
    }
    while (true) {
      long left = deadline - System.nanoTime();
      JsonNode frame;
      try {
        frame = left > 0 ? frames.poll(left, TimeUnit.NANOSECONDS) : null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      if (frame == null) {
        return java.util.Optional.empty();
      }
      if (match.test(frame)) {
        return java.util.Optional.of(frame);
      }
      all.add(frame);
    }
  }

  JsonNode awaitType(String type, String what) {
    return await(f -> f.path("type").asText().equals(type), what);
  }

  /** The acknowledged posts so far: id -> seq. */
  java.util.Map<String, Long> acks() {
    return acks;
  }

  /** Frames received and not yet matched. */
  List<JsonNode> seen() {
    frames.drainTo(all);
    return all;
  }

  /** The close code the server sent, waiting for it. */
  int awaitClose() {
    return closed.orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join();
  }

  boolean isClosed() {
    return closed.isDone();
  }

  @Override
  public void close() {
    if (!closed.isDone()) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
      socket.abort();
    }
  }
}
