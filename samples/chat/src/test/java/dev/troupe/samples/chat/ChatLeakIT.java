package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.testkit.Eventually;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorIdentity;
import org.apache.pekko.actor.Identify;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 20, item 1: no work without a real client. Plain {@code GET /ws} requests (no WebSocket
 * upgrade) get a 4xx and create nothing; WebSockets that are opened and dropped leave nothing
 * behind. Afterwards the gateway group, the number of gateway actors and the heap are back where
 * they were. 2 000 of each in the default build; the full 10 000 of each (about a minute and a half
 * on two cores) with {@code cd samples/chat && mvn verify -Dit.test=ChatLeakIT
 * -Dtroupe.leak.requests=10000}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ChatLeakIT {
  /**
   * Requests of each kind: 2 000 in the default build, 10 000 (the figure) with {@code
   * -Dtroupe.leak.requests=10000}.
   */
  private static final int REQUESTS = Integer.getInteger("troupe.leak.requests", 2_000);

  private static final int IN_FLIGHT = 32;
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private ChatCluster chat;

  @BeforeAll
  void start() {
    chat = new ChatCluster(1);
  }

  @AfterAll
  void stop() {
    if (chat != null) {
      chat.close();
    }
  }

  /**
   * The gateway actors of the node now: every {@code /system/chat-gateway-*} that answers Identify.
   * A wildcard selection has no last answer (none at all when nothing matches), so the count is
   * taken once no answer has come for half a second (the probe's receive timeout): a
   * scatter-gather's quiet period, not a synchronisation with the node under test.
   */
  private int gatewayActors(TroupeNode node) {
    TestProbe<Object> answers = TestProbe.create(node.system());
    Adapter.toClassic(node.system())
        .actorSelection("/system/chat-gateway-*")
        .tell(new Identify("gateways"), Adapter.toClassic(answers.ref()));
    int found = 0;
    while (true) {
      Object answer;
      try {
        answer = answers.receiveMessage(Duration.ofMillis(500));
      } catch (AssertionError quiet) {
        return found; // no answer for half a second: every live gateway has answered
      }
      if (answer instanceof ActorIdentity id && id.getActorRef().isPresent()) {
        found++;
      }
    }
  }

  private static long usedHeapAfterGc() {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** Runs {@code count} of {@code one} with at most IN_FLIGHT at a time; waits for all. */
  private static void run(int count, Supplier<CompletableFuture<?>> one) throws Exception {
    Semaphore slots = new Semaphore(IN_FLIGHT);
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      slots.acquire();
      CompletableFuture<?> f = one.get();
      f.whenComplete((r, e) -> slots.release());
      all.add(f);
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void plainRequestsAndDroppedWebSocketsLeaveNoGatewayNoRegistrationAndNoHeap() throws Exception {
    TroupeNode node = chat.node(0);
    int port = chat.port(0);
    int groupBefore = node.registry().workers(Gateway.GROUP).size();
    int actorsBefore = gatewayActors(node);
    long heapBefore = usedHeapAfterGc();

    HttpClient http = HttpClient.newHttpClient();
    ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    HttpRequest plain =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ws"))
            .timeout(Duration.ofSeconds(30))
            .build();
    run(
        REQUESTS,
        () ->
            http.sendAsync(plain, HttpResponse.BodyHandlers.discarding())
                .thenAccept(
                    r ->
                        statuses
                            .computeIfAbsent(r.statusCode(), c -> new AtomicInteger())
                            .incrementAndGet()));
    assertEquals(1, statuses.size(), "one answer for all: " + statuses);
    int status = statuses.keySet().iterator().next();
    assertTrue(status >= 400 && status < 500, "a 4xx for a request without upgrade: " + status);
    assertEquals(groupBefore, node.registry().workers(Gateway.GROUP).size(), "no registration");
    assertEquals(actorsBefore, gatewayActors(node), "no gateway actor");

    AtomicInteger opened = new AtomicInteger();
    run(
        REQUESTS,
        () ->
            http.newWebSocketBuilder()
                .header("Origin", "http://127.0.0.1:" + port)
                .buildAsync(
                    URI.create("ws://127.0.0.1:" + port + "/ws"), new WebSocket.Listener() {})
                .thenAccept(
                    ws -> {
                      opened.incrementAndGet();
                      ws.abort(); // drop the connection without a close frame
                    }));
    assertEquals(REQUESTS, opened.get(), "every WebSocket was opened");
    Eventually.awaitAssert(
        TIMEOUT,
        "the dropped connections' gateways and registrations are gone",
        () -> {
          assertEquals(groupBefore, node.registry().workers(Gateway.GROUP).size());
          assertEquals(actorsBefore, gatewayActors(node));
          assertEquals(0, chat.chats.get(0).connectionLimits().webSockets(), "WebSocket leases");
        });
    long heapAfter = usedHeapAfterGc();
    assertTrue(
        heapAfter - heapBefore < 64L * 1024 * 1024,
        "heap back near where it was: before "
            + heapBefore / 1024 / 1024
            + " MiB, after "
            + heapAfter / 1024 / 1024
            + " MiB");
    System.out.printf(
        "ChatLeakIT: %d plain GET /ws -> %d; %d WebSockets opened and dropped; heap %d -> %d MiB%n",
        REQUESTS, status, REQUESTS, heapBefore >> 20, heapAfter >> 20);
  }
}
