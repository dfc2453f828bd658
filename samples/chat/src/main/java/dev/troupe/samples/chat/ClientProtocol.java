package dev.troupe.samples.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The JSON a browser and a gateway exchange over the WebSocket. In: {@code join {room, user}},
 * {@code post {room, text, id}}, {@code leave {room}}, {@code ping}. Out: {@code history}, {@code
 * message}, {@code ack}, {@code presence}, {@code notice}, {@code error}, {@code pong}.
 */
final class ClientProtocol {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern ROOM = Pattern.compile("[A-Za-z0-9_-]{1,40}");
  static final int MAX_USER_CHARS = 32;
  static final int MAX_ID_CHARS = 64;

  private ClientProtocol() {}

  /** A command from the browser. */
  sealed interface Command {}

  record Join(String room, String user) implements Command {}

  record Leave(String room) implements Command {}

  record Post(String room, String id, String text) implements Command {}

  record Ping() implements Command {}

  /** A frame the server refuses, and why; {@code id} is the post's id if it had one. */
  static final class BadCommand extends Exception {
    private static final long serialVersionUID = 1L;
    final String id;

    BadCommand(String message, String id) {
      super(message, null, false, false);
      this.id = id;
    }
  }

  /**
   * Parses one text frame.
   *
   * @throws BadCommand naming what is wrong: malformed JSON, an unknown type, a bad field
   */
  static Command parse(String text, int maxMessageChars) throws BadCommand {
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BadCommand("malformed JSON: " + e.getOriginalMessage(), null);
    }
    if (node == null || !node.isObject()) {
      throw new BadCommand("a command is a JSON object with a \"type\"", null);
    }
    String type = node.path("type").asText("");
    String id = node.hasNonNull("id") ? node.get("id").asText() : null;
    if (id != null && id.length() > MAX_ID_CHARS) {
      throw new BadCommand("id must be at most " + MAX_ID_CHARS + " characters", null);
    }
    if (id != null && !wellFormed(id)) {
      throw new BadCommand("id must not contain unpaired UTF-16 surrogates", null);
    }
    return switch (type) {
      case "join" -> new Join(room(node, id), user(node));
      case "leave" -> new Leave(room(node, id));
      case "post" -> new Post(room(node, id), id, text(node, id, maxMessageChars));
      case "ping" -> new Ping();
      default ->
          throw new BadCommand(
              "unknown command type [" + truncate(type) + "]: expected join, post, leave or ping",
              id);
    };
  }

  private static String room(JsonNode node, String id) throws BadCommand {
    String room = node.path("room").asText("");
    if (!ROOM.matcher(room).matches()) {
      throw new BadCommand(
          "room must be 1 to 40 letters, digits, '-' or '_', got [" + truncate(room) + "]", id);
    }
    return room;
  }

  private static String user(JsonNode node) throws BadCommand {
    String user = node.path("user").asText("").strip();
    if (user.isEmpty()
        || user.length() > MAX_USER_CHARS
        || user.chars().anyMatch(Character::isISOControl)
        || !wellFormed(user)) {
      throw new BadCommand(
          "user must be 1 to "
              + MAX_USER_CHARS
              + " characters without control characters or unpaired UTF-16 surrogates",
          null);
    }
    return user;
  }

  private static String text(JsonNode node, String id, int max) throws BadCommand {
    String text = node.path("text").asText("").strip();
    if (text.isEmpty() || text.length() > max) {
      throw new BadCommand("text must be 1 to " + max + " characters, got " + text.length(), id);
    }
    if (text.indexOf(0) >= 0 || !wellFormed(text)) {
      throw new BadCommand("text must not contain NUL or unpaired UTF-16 surrogates", id);
    }
    return text;
  }

  /**
   * Whether every surrogate in {@code s} is half of a pair. JSON lets a client send a lone one (the
   * escape backslash-u-D800), but it cannot be encoded: the cluster's CBOR serializer refuses it,
   * so a name, id or text with one would break every message that carries it to another node (a
   * room's history among them, for as long as the message is in it). PostgreSQL refuses NUL in
   * text, so a post with one failed to be logged after its room had stored it. Both are refused
   * here, where the client gets an error frame.
   */
  static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static String truncate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  // ---- out ----

  static String history(String room, List<ChatMessage> messages, Collection<String> users) {
    ObjectNode out = JSON.createObjectNode().put("type", "history").put("room", room);
    ArrayNode list = out.putArray("messages");
    messages.forEach(m -> list.add(message(m)));
    ArrayNode present = out.putArray("users");
    users.forEach(present::add);
    return out.toString();
  }

  static String message(ChatMessage m, boolean asFrame) {
    return asFrame ? message(m).put("type", "message").toString() : message(m).toString();
  }

  private static ObjectNode message(ChatMessage m) {
    return JSON.createObjectNode()
        .put("room", m.room())
        .put("seq", m.seq())
        .put("user", m.user())
        .put("text", m.text())
        .put("at", m.at());
  }

  static String ack(String room, String id, long seq) {
    return JSON.createObjectNode()
        .put("type", "ack")
        .put("room", room)
        .put("id", id)
        .put("seq", seq)
        .toString();
  }

  static String presence(String room, Collection<String> users) {
    ObjectNode out = JSON.createObjectNode().put("type", "presence").put("room", room);
    ArrayNode list = out.putArray("users");
    users.forEach(list::add);
    return out.toString();
  }

  static String notice(String room, String text) {
    return JSON.createObjectNode()
        .put("type", "notice")
        .put("room", room)
        .put("text", text)
        .toString();
  }

  static String error(String message, String id) {
    ObjectNode out = JSON.createObjectNode().put("type", "error").put("error", message);
    if (id != null) {
      out.put("id", id);
    }
    return out.toString();
  }

  static String pong() {
    return "{\"type\":\"pong\"}";
  }
}
