package dev.troupe.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.health.Readiness;
import dev.troupe.testkit.Eventually;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.PoisonPill;
import org.junit.jupiter.api.Test;

/** Pekko Management on a started node: Troupe's readiness and liveness checks, and members. */
final class ManagementIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static HttpResponse<String> get(int port, String path) {
    return get(port, path, null);
  }

  static HttpResponse<String> get(int port, String path, String authorization) {
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .timeout(Duration.ofSeconds(5));
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " on port " + port + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static TroupeNode start(String name, List<String> seeds, String config) {
    return TroupeNode.start(
        NodeOptions.builder()
            .name(name)
            .port(0)
            .seedNodes(seeds)
            .config("troupe.core.management.enabled = on\n" + config)
            .build());
  }

  @Test
  void startedNodeServesReadyAliveAndMembersWhenUpAndItsStorageAnswers() throws Exception {
    int port = freePort();
    try (TroupeNode node =
        start(
            "managed",
            List.of(),
            "pekko.management.http.port = "
                + port
                + "\ntroupe.storage.url = \"jdbc:h2:mem:management-it;DB_CLOSE_DELAY=-1\""
                + "\ntroupe.core.health.storage = on")) {
      node.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Eventually.awaitAssert(
          TIMEOUT,
          "/ready answers 200",
          () -> {
            HttpResponse<String> ready = get(port, "/ready");
            assertEquals(200, ready.statusCode(), "/ready: " + ready.body());
          });
      Readiness readiness = node.readiness().toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertTrue(readiness.isReady(), readiness.toString());
      HttpResponse<String> alive = get(port, "/alive");
      assertEquals(200, alive.statusCode(), "/alive: " + alive.body());
      HttpResponse<String> members = get(port, "/cluster/members");
      assertEquals(200, members.statusCode(), "/cluster/members: " + members.body());
      assertTrue(
          members.body().contains(node.address().toString())
              && members.body().contains("\"status\":\"Up\""),
          "/cluster/members lists this node Up: " + members.body());
    }
  }

  @Test
  void theOperatorTokenGuardsManagementButNotTheProbes() throws Exception {
    int port = freePort();
    String token = "an-operator-token-for-the-test";
    try (TroupeNode node =
        start(
            "guarded",
            List.of(),
            "pekko.management.http.port = "
                + port
                + "\ntroupe.security.access-token = \""
                + token
                + "\"")) {
      node.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Eventually.awaitAssert(
          TIMEOUT,
          "/ready answers 200 without a token",
          () -> assertEquals(200, get(port, "/ready").statusCode()));
      assertEquals(200, get(port, "/alive").statusCode(), "/alive without a token");
      HttpResponse<String> anonymous = get(port, "/cluster/members");
      assertEquals(401, anonymous.statusCode(), "/cluster/members without a token");
      assertTrue(
          anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"),
          "a Bearer challenge: " + anonymous.headers().map());
      assertEquals(401, get(port, "/cluster/members", "Bearer wrong-token").statusCode());
      HttpResponse<String> operator = get(port, "/cluster/members", "Bearer " + token);
      assertEquals(200, operator.statusCode(), "/cluster/members with the token");
      assertTrue(operator.body().contains(node.address().toString()), operator.body());
    }
  }

  @Test
  void readinessNamesWhatIsMissingWhileLivenessStaysTrue() throws Exception {
    int port = freePort();
    int nobody = freePort(); // no node and no database listens here
    try (TroupeNode node =
        start(
            "unready",
            List.of("pekko://troupe@127.0.0.1:" + nobody),
            "pekko.management.http.port = "
                + port
                + "\ntroupe.storage.url = \"jdbc:postgresql://127.0.0.1:"
                + nobody
                + "/none?user=none\""
                + "\ntroupe.storage.connection-timeout = 250ms"
                + "\ntroupe.core.health.storage = on")) {
      Eventually.awaitAssert(
          TIMEOUT,
          "/ready answers, naming the member status and the storage",
          () -> {
            HttpResponse<String> ready = get(port, "/ready");
            assertEquals(500, ready.statusCode(), "/ready: " + ready.body());
            assertTrue(ready.body().contains("not Up"), "/ready: " + ready.body());
            assertTrue(ready.body().contains("storage"), "/ready: " + ready.body());
          });
      Readiness readiness = node.readiness().toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertFalse(readiness.isReady());
      assertTrue(
          readiness.notReady().stream().anyMatch(r -> r.startsWith("this member is")),
          readiness.toString());
      HttpResponse<String> alive = get(port, "/alive");
      assertEquals(200, alive.statusCode(), "a node that is not ready is alive: " + alive.body());
    }
  }

  @Test
  void aJoiningNodeIsReadyOnceItHoldsItsPeersEntriesAndSeedsWinOverBootstrap() throws Exception {
    int port1 = freePort();
    int port2 = freePort();
    try (TroupeNode first = start("first", List.of(), "pekko.management.http.port = " + port1)) {
      first.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      // Bootstrap is on, but the node has a seed node: it joins the seed.
      try (TroupeNode second =
          start(
              "second",
              List.of(first.address().toString()),
              "pekko.management.http.port = " + port2 + "\ntroupe.core.bootstrap.enabled = on")) {
        second.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
        Eventually.awaitAssert(
            TIMEOUT,
            "both nodes are ready",
            () -> {
              HttpResponse<String> one = get(port1, "/ready");
              HttpResponse<String> two = get(port2, "/ready");
              assertEquals(200, one.statusCode(), one.body());
              assertEquals(200, two.statusCode(), two.body());
            });
      }
    }
  }

  @Test
  void aJoiningNodeIsNotReadyWhileAPeersRegistryHasNotSentItsCopy() throws Exception {
    int port1 = freePort();
    int port2 = freePort();
    try (TroupeNode first = start("mute", List.of(), "pekko.management.http.port = " + port1)) {
      first.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      // The first node's registry stops: it never answers the second node's request for a copy.
      first
          .system()
          .classicSystem()
          .actorSelection("/system/troupeRegistry")
          .tell(PoisonPill.getInstance(), ActorRef.noSender());
      try (TroupeNode second =
          start(
              "waiting",
              List.of(first.address().toString()),
              "pekko.management.http.port = " + port2)) {
        second.whenUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
        Eventually.awaitAssert(
            TIMEOUT,
            "the second node's /ready names the registry, and only the registry",
            () -> {
              HttpResponse<String> ready = get(port2, "/ready");
              assertEquals(500, ready.statusCode(), ready.body());
              assertTrue(ready.body().contains("worker registry"), ready.body());
              assertFalse(ready.body().contains("address book"), ready.body());
              assertFalse(ready.body().contains("not Up"), ready.body());
            });
      }
    }
  }

  @Test
  void aManagementPortInUseFailsTheStartNamingIt() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> start("clash", List.of(), "pekko.management.http.port = " + port));
      assertTrue(
          e.getMessage().contains("Pekko Management") && e.getMessage().contains(":" + port),
          e.getMessage());
    }
  }
}
