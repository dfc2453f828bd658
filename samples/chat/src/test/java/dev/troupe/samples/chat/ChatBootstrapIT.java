package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Cluster Bootstrap with the {@code config} discovery method: three chat node JVMs on loopback,
 * none with a seed node, form one cluster through Pekko Management's contact points; a fourth,
 * started later, finds the cluster and joins it. The chat then works across all four: a post on the
 * newest node reaches a client on the first through the rooms fleet and the gateways' worker group,
 * and every node's Management answers {@code /ready} and lists four members.
 */
final class ChatBootstrapIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final String SERVICE = "troupe-chat-bootstrap-it";

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The config discovery's endpoints: the Management ports of the nodes that exist so far. */
  private static String endpoints(List<Integer> managementPorts) {
    return managementPorts.stream()
        .map(p -> "{ host = \"127.0.0.1\", port = " + p + " }")
        .collect(Collectors.joining(", ", "[", "]"));
  }

  @Test
  void nodesWithoutSeedsFormOneClusterThroughBootstrapAndALaterNodeJoinsIt() throws Exception {
    List<Integer> management = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      management.add(freePort());
    }
    Path db = Path.of("target", "bootstrap-it-" + System.nanoTime()).toAbsolutePath();
    String config =
        String.join(
            "\n",
            "troupe.core.bootstrap.enabled = on",
            "troupe.storage.url = \"jdbc:h2:file:" + db.resolve("chat") + ";AUTO_SERVER=TRUE\"",
            "chat.http.port = 0",
            "pekko.management.cluster.bootstrap {",
            "  contact-point-discovery {",
            "    discovery-method = config",
            "    service-name = " + SERVICE,
            "    required-contact-point-nr = 3",
            "    stable-margin = 2s",
            "    interval = 500ms",
            "  }",
            // The nodes' Management ports differ (one machine): keep every discovered endpoint.
            "  contact-point.filter-on-fallback-port = false",
            "}");
    try (ProcessCluster cluster =
        ProcessCluster.builder()
            .size(3)
            .withoutSeeds()
            .config(config)
            .nodeConfig(
                i ->
                    "pekko.management.http.port = "
                        + management.get(i)
                        + "\npekko.discovery.config.services."
                        + SERVICE
                        + ".endpoints = "
                        // the first three see each other; the fourth also itself
                        + endpoints(management.subList(0, i < 3 ? 3 : 4)))
            .mainClass(ChatChildNode.class)
            .start()) {
      assertEquals(3, cluster.node(0).members().size(), "one cluster of the three nodes");

      NodeProcess fourth = cluster.addNode();
      Set<String> all =
          cluster.nodes().stream().map(NodeProcess::address).collect(Collectors.toSet());
      assertEquals(4, all.size());
      for (NodeProcess node : cluster.nodes()) {
        assertEquals(all, node.members(), node.name() + " sees all four Up");
      }

      List<Integer> http = new ArrayList<>();
      for (NodeProcess node : cluster.nodes()) {
        node.send("chat");
        String line = node.awaitLine(l -> l.startsWith("TROUPE-CHAT http "), TIMEOUT);
        http.add(Integer.parseInt(line.substring("TROUPE-CHAT http ".length()).trim()));
        String bound = node.awaitLine(l -> l.startsWith("TROUPE-MANAGEMENT "), TIMEOUT);
        assertEquals(
            management.get(node.index()),
            Integer.parseInt(bound.substring("TROUPE-MANAGEMENT ".length()).trim()),
            node.name() + "'s Management port");
      }

      for (int i : IntStream.range(0, 4).toArray()) {
        int port = management.get(i);
        Eventually.awaitAssert(
            TIMEOUT,
            "node-" + i + " is ready and lists four Up members",
            () -> {
              HttpResponse<String> ready = get(port, "/ready");
              assertEquals(200, ready.statusCode(), "node-" + i + " /ready: " + ready.body());
              assertEquals(all, upMembers(port), "node-" + i + "'s /cluster/members");
            });
      }

      // The chat across the bootstrapped cluster: a room (a fleet worker on some node) and the
      // gateways' worker group carry a post from the newest node to a client of the first.
      try (WsClient early = WsClient.connect(http.get(0));
          WsClient late = WsClient.connect(http.get(fourth.index()))) {
        early.join("bootstrap", "early");
        early.awaitType("history", "early's history");
        late.join("bootstrap", "late");
        late.awaitType("history", "late's history");
        late.post("bootstrap", "l1", "hello from the fourth node");
        late.await(
            f -> f.path("type").asText().equals("ack") && f.path("id").asText().equals("l1"),
            "the ack of the post");
        JsonNode seen =
            early.await(
                f ->
                    f.path("type").asText().equals("message")
                        && f.path("text").asText().equals("hello from the fourth node"),
                "the post at the first node's client");
        assertEquals("late", seen.path("user").asText());
      }
    }
  }

  private static Set<String> upMembers(int port) {
    try {
      return ChatHttp.upMembers(port);
    } catch (IOException e) {
      throw new AssertionError("GET /cluster/members on " + port + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static HttpResponse<String> get(int port, String path) {
    try {
      return ChatHttp.get(port, path);
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " on " + port + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
