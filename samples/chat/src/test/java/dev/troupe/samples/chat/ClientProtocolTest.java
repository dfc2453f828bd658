package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The WebSocket JSON protocol: what is accepted, what is refused and how it is said. */
final class ClientProtocolTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ClientProtocol.Command parse(String text) throws ClientProtocol.BadCommand {
    return ClientProtocol.parse(text, 100);
  }

  private static String refused(String text) {
    return assertThrows(ClientProtocol.BadCommand.class, () -> parse(text)).getMessage();
  }

  @Test
  void validCommandsAreParsed() throws Exception {
    assertEquals(
        new ClientProtocol.Join("lobby", "ann"),
        parse("{\"type\":\"join\",\"room\":\"lobby\",\"user\":\" ann \"}"));
    assertEquals(
        new ClientProtocol.Post("r-1", "c1", "hi"),
        parse("{\"type\":\"post\",\"room\":\"r-1\",\"id\":\"c1\",\"text\":\"hi\"}"));
    assertEquals(new ClientProtocol.Leave("r_2"), parse("{\"type\":\"leave\",\"room\":\"r_2\"}"));
    assertInstanceOf(ClientProtocol.Ping.class, parse("{\"type\":\"ping\"}"));
    assertEquals(
        "<b>",
        ((ClientProtocol.Join) parse("{\"type\":\"join\",\"room\":\"a\",\"user\":\"<b>\"}")).user(),
        "names are data: the page escapes them");
  }

  @Test
  void badCommandsAreRefusedNamingTheProblem() {
    assertTrue(refused("{oops").startsWith("malformed JSON"));
    assertTrue(refused("42").contains("JSON object"));
    assertTrue(refused("{\"type\":\"dance\"}").contains("[dance]"));
    assertTrue(
        refused("{\"type\":\"join\",\"room\":\"no spaces\",\"user\":\"a\"}")
            .contains("[no spaces]"));
    assertTrue(refused("{\"type\":\"join\",\"room\":\"r\",\"user\":\"\"}").contains("user"));
    assertTrue(
        refused("{\"type\":\"join\",\"room\":\"r\",\"user\":\"" + "u".repeat(33) + "\"}")
            .contains("user"));
    assertTrue(
        refused("{\"type\":\"join\",\"room\":\"r\",\"user\":\"a\\u0007b\"}").contains("control"));
    assertTrue(refused("{\"type\":\"post\",\"room\":\"r\",\"text\":\"  \"}").contains("text"));
    assertTrue(
        refused("{\"type\":\"post\",\"room\":\"r\",\"text\":\"" + "t".repeat(101) + "\"}")
            .contains("101"));
    assertTrue(refused("{\"type\":\"ping\",\"id\":\"" + "i".repeat(65) + "\"}").contains("id"));
    ClientProtocol.BadCommand withId =
        assertThrows(
            ClientProtocol.BadCommand.class,
            () -> parse("{\"type\":\"post\",\"room\":\"r\",\"id\":\"p7\",\"text\":\"\"}"));
    assertEquals("p7", withId.id);
  }

  /**
   * Found by ChatFuzzIT: a lone surrogate (valid JSON, no valid Unicode) in a name, id or text
   * cannot cross to another node (CBOR refuses it), and a NUL in a text cannot be logged on
   * PostgreSQL; both broke rooms for everyone in them.
   */
  @Test
  void unpairedSurrogatesAndNulAreRefusedSinceNoNodeCouldPassThemOn() throws Exception {
    assertTrue(
        refused("{\"type\":\"join\",\"room\":\"r\",\"user\":\"a\\ud800b\"}").contains("surrogate"));
    assertTrue(
        refused("{\"type\":\"join\",\"room\":\"r\",\"user\":\"\\udfff\"}").contains("surrogate"));
    ClientProtocol.BadCommand lone =
        assertThrows(
            ClientProtocol.BadCommand.class,
            () ->
                parse("{\"type\":\"post\",\"room\":\"r\",\"id\":\"p1\",\"text\":\"hi \\ud83d\"}"));
    assertTrue(lone.getMessage().contains("surrogate"), lone.getMessage());
    assertEquals("p1", lone.id, "the error names the post");
    assertTrue(
        refused("{\"type\":\"post\",\"room\":\"r\",\"id\":\"p2\",\"text\":\"a\\u0000b\"}")
            .contains("NUL"));
    assertTrue(
        refused("{\"type\":\"post\",\"room\":\"r\",\"id\":\"\\ud800\",\"text\":\"hi\"}")
            .contains("id"));
    assertEquals(
        new ClientProtocol.Post("r", "p3", "smile \ud83d\ude00"),
        parse("{\"type\":\"post\",\"room\":\"r\",\"id\":\"p3\",\"text\":\"smile \\ud83d\\ude00\"}"),
        "a surrogate pair is a character like any other");
    assertEquals(
        "\ud83d\ude00",
        ((ClientProtocol.Join)
                parse("{\"type\":\"join\",\"room\":\"r\",\"user\":\"\\ud83d\\ude00\"}"))
            .user());
  }

  @Test
  void framesOutAreJsonWithTheirType() throws Exception {
    ChatMessage m = new ChatMessage("r", 3, "ann", "<i>hi</i>", 42);
    JsonNode history = JSON.readTree(ClientProtocol.history("r", List.of(m), List.of("ann")));
    assertEquals("history", history.path("type").asText());
    assertEquals("<i>hi</i>", history.path("messages").get(0).path("text").asText());
    assertEquals("ann", history.path("users").get(0).asText());
    JsonNode message = JSON.readTree(ClientProtocol.message(m, true));
    assertEquals("message", message.path("type").asText());
    assertEquals(3, message.path("seq").asLong());
    JsonNode error = JSON.readTree(ClientProtocol.error("nope", null));
    assertEquals("nope", error.path("error").asText());
    assertNull(error.get("id"));
    assertEquals("p1", JSON.readTree(ClientProtocol.error("nope", "p1")).path("id").asText());
    assertEquals(7, JSON.readTree(ClientProtocol.ack("r", "p1", 7)).path("seq").asLong());
  }
}
