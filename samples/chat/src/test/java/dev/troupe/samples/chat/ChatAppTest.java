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

  @Test
  void addressesAndPortsReachTheConfigurationTheNodeRunsWith() {
    com.typesafe.config.Config config =
        ChatApp.options(
                new String[] {
                  "--host", "10.0.0.7",
                  "--port", "25520",
                  "--bind-host", "0.0.0.0",
                  "--bind-port", "25530",
                  "--http-host", "0.0.0.0",
                  "--http-port", "8088",
                  "--management-port", "7700"
                })
            .toConfig();
    assertEquals("10.0.0.7", config.getString("pekko.remote.artery.canonical.hostname"));
    assertEquals(25520, config.getInt("pekko.remote.artery.canonical.port"));
    assertEquals("0.0.0.0", config.getString("pekko.remote.artery.bind.hostname"));
    assertEquals(25530, config.getInt("pekko.remote.artery.bind.port"));
    assertEquals("0.0.0.0", config.getString("chat.http.host"));
    assertEquals(8088, config.getInt("chat.http.port"));
    assertEquals(7700, config.getInt("pekko.management.http.port"));
    assertEquals(
        "10.0.0.7",
        config.getString("pekko.management.http.hostname"),
        "Management is reached at the advertised address");
    // Without options: bind = canonical (Pekko's empty bind.hostname), Management on.
    com.typesafe.config.Config defaults = ChatApp.options(new String[0]).toConfig();
    assertEquals("", defaults.getString("pekko.remote.artery.bind.hostname"));
    assertTrue(defaults.getBoolean("troupe.core.management.enabled"));
    assertEquals(7626, defaults.getInt("pekko.management.http.port"));
  }

  @Test
  void helpListsEveryOptionWithItsDefault() {
    String help = ChatApp.help();
    for (String option :
        List.of(
            "--name",
            "--host",
            "--port",
            "--bind-host",
            "--bind-port",
            "--seed",
            "--http-host",
            "--http-port",
            "--management-port",
            "--storage",
            "--help")) {
      assertTrue(help.contains("  " + option + " ") || help.contains("  " + option + "\n"), option);
    }
    assertTrue(help.contains("[default: 7626]"), help);
    assertTrue(help.contains("[default: 8080]"), help);
    assertTrue(help.contains("[default: 127.0.0.1]"), help);
    assertTrue(help.contains("[default: " + ChatApp.DEFAULT_STORAGE + "]"), help);
  }

  @Test
  void portsOutOfRangeAndMissingValuesAreRefused() {
    IllegalArgumentException range =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChatApp.options(new String[] {"--management-port", "70000"}));
    assertTrue(range.getMessage().contains("--management-port"), range.getMessage());
    assertTrue(range.getMessage().contains("[70000]"), range.getMessage());
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChatApp.options(new String[] {"--bind-host", "--port", "1"}));
    assertTrue(missing.getMessage().contains("--bind-host"), missing.getMessage());
  }
}
