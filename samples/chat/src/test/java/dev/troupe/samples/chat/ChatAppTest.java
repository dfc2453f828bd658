package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.NodeOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

final class ChatAppTest {

  @Test
  void noArgumentsMeansAnEmbeddedSingleNode() {
    NodeOptions options = ChatApp.options(new String[0]);
    assertTrue(options.seedNodes().isEmpty());
    assertTrue(options.port().isEmpty());
  }

  @Test
  void optionsAreParsed() {
    NodeOptions options =
        ChatApp.options(
            new String[] {
              "--name",
              "n2",
              "--port",
              "25521",
              "--seed",
              "pekko://troupe@127.0.0.1:17355",
              "--seed",
              "pekko://troupe@127.0.0.1:25522",
              "--http-port",
              "8081",
              "--storage",
              "jdbc:h2:file:./data/chat;AUTO_SERVER=TRUE"
            });
    assertEquals("n2", options.name().orElseThrow());
    assertEquals(25521, options.port().getAsInt());
    assertEquals(2, options.seedNodes().size());
  }

  @Test
  void aNodeThatJoinsSeedsNeedsASharedDatabase() {
    for (String privateDb : List.of("jdbc:h2:mem:x", "jdbc:h2:file:./data/chat")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  ChatApp.options(
                      new String[] {
                        "--seed", "pekko://troupe@127.0.0.1:17355", "--storage", privateDb
                      }));
      assertTrue(e.getMessage().contains("[" + privateDb + "]"), e.getMessage());
      assertTrue(e.getMessage().contains("AUTO_SERVER=TRUE"), e.getMessage());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> ChatApp.options(new String[] {"--seed", "pekko://troupe@127.0.0.1:17355"}),
        "the default storage is a private H2 file");
    ChatApp.options(
        new String[] {
          "--seed", "pekko://troupe@127.0.0.1:17355",
          "--storage", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres"
        });
    ChatApp.options(new String[] {"--storage", "jdbc:h2:mem:alone"}); // one node: fine
  }

  @Test
  void badOptionsAreRefusedNamingTheValue() {
    IllegalArgumentException port =
        assertThrows(
            IllegalArgumentException.class, () -> ChatApp.options(new String[] {"--port", "x"}));
    IllegalArgumentException http =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChatApp.options(new String[] {"--http-port", "eighty"}));
    assertTrue(http.getMessage().contains("--http-port") && http.getMessage().contains("[eighty]"));
    assertTrue(port.getMessage().contains("[x]"), port.getMessage());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> ChatApp.options(new String[] {"--colour", "1"}));
    assertTrue(unknown.getMessage().contains("--colour"), unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ChatApp.options(new String[] {"--port"}));
  }
}
