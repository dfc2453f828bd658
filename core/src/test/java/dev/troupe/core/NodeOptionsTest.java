package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class NodeOptionsTest {

  @Test
  void toConfigIsWhatANodeRunsWithAndProfilesMayBeSubstitutions() {
    // The way an application.conf takes the profile from the environment.
    assertEquals(
        "development",
        NodeOptions.builder()
            .config("troupe.profile = ${?TROUPE_TEST_NO_SUCH_VARIABLE}")
            .build()
            .toConfig()
            .getString("troupe.profile"));
    com.typesafe.config.Config production =
        NodeOptions.builder()
            .host("10.1.2.3")
            .config("deployment.kind = production\ntroupe.profile = ${deployment.kind}")
            .build()
            .toConfig();
    assertEquals("tls-tcp", production.getString("pekko.remote.artery.transport"));
    assertEquals("10.1.2.3", production.getString("pekko.remote.artery.canonical.hostname"));
    assertEquals(
        "10.1.2.3",
        production.getString("pekko.management.http.hostname"),
        "Pekko Management follows the canonical hostname");
  }

  @Test
  void defaultsLeaveEveryOptionToConfiguration() {
    NodeOptions options = NodeOptions.defaults();
    assertTrue(options.name().isEmpty());
    assertTrue(options.host().isEmpty());
    assertTrue(options.port().isEmpty());
    assertEquals(List.of(), options.seedNodes());
    assertEquals("troupe", options.systemName());
  }

  @Test
  void validOptionsAreKept() {
    NodeOptions options =
        NodeOptions.builder()
            .name("node-1")
            .host("10.0.0.5")
            .port(0)
            .seedNodes(List.of("pekko://troupe@10.0.0.1:17355"))
            .roles(Set.of("backend"))
            .build();
    assertEquals("node-1", options.name().orElseThrow());
    assertEquals(0, options.port().getAsInt());
    assertEquals("10.0.0.1", options.seedNodes().get(0).getHost().get());
    assertEquals(Set.of("backend"), options.roles());
  }

  @Test
  void emptyNameIsRefusedNamingTheOption() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NodeOptions.builder().name("").build());
    assertTrue(e.getMessage().contains("NodeOptions.name"), e.getMessage());
  }

  @Test
  void portOutsideTheRangeIsRefusedNamingTheValue() {
    IllegalArgumentException high =
        assertThrows(
            IllegalArgumentException.class, () -> NodeOptions.builder().port(65536).build());
    assertTrue(high.getMessage().contains("NodeOptions.port"), high.getMessage());
    assertTrue(high.getMessage().contains("65536"), high.getMessage());
    IllegalArgumentException negative =
        assertThrows(IllegalArgumentException.class, () -> NodeOptions.builder().port(-1).build());
    assertTrue(negative.getMessage().contains("-1"), negative.getMessage());
  }

  @Test
  void malformedSeedIsRefusedNamingTheSeed() {
    for (String bad :
        List.of("not a uri", "pekko://troupe@127.0.0.1", "http://troupe@127.0.0.1:80", "")) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> NodeOptions.builder().seedNodes(List.of(bad)).build(),
              "seed [" + bad + "]");
      assertTrue(e.getMessage().contains("NodeOptions.seedNodes"), e.getMessage());
      assertTrue(e.getMessage().contains("[" + bad + "]"), e.getMessage());
    }
  }

  @Test
  void seedWithAnotherSystemNameIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NodeOptions.builder().seedNodes(List.of("pekko://other@127.0.0.1:2552")).build());
    assertTrue(e.getMessage().contains("[other]"), e.getMessage());
    assertTrue(e.getMessage().contains("troupe.core.system-name"), e.getMessage());
  }

  @Test
  void systemNameComesFromTheExtraConfig() {
    NodeOptions options =
        NodeOptions.builder()
            .config("troupe.core.system-name = shop")
            .seedNodes(List.of("pekko://shop@127.0.0.1:2552"))
            .build();
    assertEquals("shop", options.systemName());
  }

  @Test
  void malformedConfigIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> NodeOptions.builder().config("a = {").build());
    assertTrue(e.getMessage().contains("NodeOptions.config"), e.getMessage());
  }

  @Test
  void nullsAreRefusedNamingTheOption() {
    assertThrows(
        IllegalArgumentException.class, () -> NodeOptions.builder().seedNodes(null).build());
    assertThrows(IllegalArgumentException.class, () -> NodeOptions.builder().roles(null).build());
    assertThrows(IllegalArgumentException.class, () -> NodeOptions.builder().config(null).build());
    assertThrows(IllegalArgumentException.class, () -> TroupeNode.start(null));
  }

  @Test
  void blankRoleIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> NodeOptions.builder().roles(Set.of(" ")).build());
    assertTrue(e.getMessage().contains("NodeOptions.roles"), e.getMessage());
  }
}
