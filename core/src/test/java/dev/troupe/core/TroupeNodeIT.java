package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.junit.jupiter.api.Test;

final class TroupeNodeIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static TroupeNode startLocal(String config) {
    return TroupeNode.start(NodeOptions.builder().name("solo").port(0).config(config).build());
  }

  @Test
  void nodeWithoutSeedsFormsAnEmbeddedSingleNodeCluster() throws Exception {
    try (TroupeNode node = startLocal("")) {
      TroupeNode up = node.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(node, up);
      assertEquals(Set.of(node.address()), node.members());
      assertEquals("troupe", node.address().system());
      assertTrue(node.address().getPort().get() > 0, "real port for port 0: " + node.address());
      assertEquals("solo", node.name());
    }
  }

  @Test
  void leaveTerminatesTheNodeGracefully() throws Exception {
    TroupeNode node = startLocal("");
    node.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Done done = node.leave().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(Done.getInstance(), done);
    assertTrue(node.system().whenTerminated().isCompleted());
    // A second call is harmless and returns a completed stage.
    node.leave().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void troupeDefaultsApplyButExtraConfigWins() {
    try (TroupeNode node = startLocal("pekko.cluster.split-brain-resolver.stable-after = 11s")) {
      Config config = node.system().settings().config();
      assertEquals("cluster", config.getString("pekko.actor.provider"));
      assertEquals(
          "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
          config.getString("pekko.cluster.downing-provider-class"));
      assertEquals(
          "keep-majority", config.getString("pekko.cluster.split-brain-resolver.active-strategy"));
      assertEquals(
          Duration.ofSeconds(11),
          config.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
      assertEquals("off", config.getString("pekko.actor.allow-java-serialization"));
      assertEquals(
          "jackson-cbor",
          config.getString(
              "pekko.actor.serialization-bindings.\"dev.troupe.core.TroupeSerializable\""));
    }
  }

  @Test
  void overridesReachCopiesMadeBySubstitution() {
    // PEKKO-NOTES section 0: receptionist.distributed-data = ${pekko.cluster.distributed-data}
    try (TroupeNode node = startLocal("pekko.cluster.distributed-data.gossip-interval = 321ms")) {
      assertEquals(
          Duration.ofMillis(321),
          node.system()
              .settings()
              .config()
              .getDuration("pekko.cluster.typed.receptionist.distributed-data.gossip-interval"));
    }
  }

  @Test
  void pekkosReceptionistIsTunedForFastPropagation() {
    try (TroupeNode node = startLocal("pekko.cluster.distributed-data.gossip-interval = 1500ms")) {
      Config config = node.system().settings().config();
      assertEquals("all", config.getString("pekko.cluster.typed.receptionist.write-consistency"));
      assertEquals(
          Duration.ofMillis(10),
          config.getDuration(
              "pekko.cluster.typed.receptionist.distributed-data.notify-subscribers-interval"));
      // Gossip is Pekko's, including user overrides.
      assertEquals(
          Duration.ofMillis(1500),
          config.getDuration("pekko.cluster.typed.receptionist.distributed-data.gossip-interval"));
    }
  }

  @Test
  void theFastFailoverProfileHalvesDetectionAndDowningButUserSettingsStillWin() {
    try (TroupeNode node = startLocal("troupe.core.failover-profile = fast")) {
      Config config = node.system().settings().config();
      assertEquals(
          Duration.ofMillis(3500),
          config.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
      assertEquals(
          Duration.ofMillis(1500),
          config.getDuration("pekko.cluster.failure-detector.acceptable-heartbeat-pause"));
    }
    try (TroupeNode node =
        startLocal(
            "troupe.core.failover-profile = fast\n"
                + "pekko.cluster.split-brain-resolver.stable-after = 5s")) {
      assertEquals(
          Duration.ofSeconds(5),
          node.system()
              .settings()
              .config()
              .getDuration("pekko.cluster.split-brain-resolver.stable-after"));
    }
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> startLocal("troupe.core.failover-profile = turbo"));
    assertTrue(bad.getMessage().contains("turbo"), bad.getMessage());
  }

  @Test
  void aPortInUseIsReportedWithHostAndPort() {
    try (TroupeNode first = startLocal("")) {
      int port = first.address().getPort().get();
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> TroupeNode.start(NodeOptions.builder().port(port).build()));
      assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
    }
  }
}
