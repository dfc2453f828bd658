package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.troupe.sharding.BroadcastResult;
import dev.troupe.sharding.FleetMetrics;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A gateway on its own, with a fleet that records what it is told and a probe as the browser. */
final class GatewayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** A fleet double: records every tell as "key: message". */
  private static final class RecordingFleet implements WorkerFleet<Room.Command> {
    final BlockingQueue<Map.Entry<String, Room.Command>> told = new LinkedBlockingQueue<>();

    @Override
    public FleetSpec<Room.Command> spec() {
      throw new UnsupportedOperationException("not used by the gateway");
    }

    @Override
    public void tell(String key, Room.Command message) {
      told.add(Map.entry(key, message));
    }

    @Override
    public <R> CompletionStage<R> ask(
        String key, Function<ActorRef<R>, Room.Command> message, Duration timeout) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("not used"));
    }

    @Override
    public <R> CompletionStage<BroadcastResult<R>> broadcast(
        Map<String, Function<ActorRef<R>, Room.Command>> messages, Duration timeout) {
      return CompletableFuture.failedFuture(new UnsupportedOperationException("not used"));
    }

    @Override
    public void publish(Map<String, Room.Command> messages) {
      messages.forEach(this::tell);
    }

    @Override
    public CompletionStage<Integer> activeCount() {
      return CompletableFuture.completedFuture(0);
    }

    @Override
    public CompletionStage<Set<String>> activeKeys() {
      return CompletableFuture.completedFuture(Set.of());
    }

    @Override
    public CompletionStage<Integer> reconfigurePassivation(Duration idle, Duration jitter) {
      return CompletableFuture.completedFuture(0);
    }

    @Override
    public CompletionStage<java.util.Optional<org.apache.pekko.actor.Address>> whereis(String key) {
      throw new UnsupportedOperationException("not used by the gateway");
    }

    @Override
    public CompletionStage<Boolean> stop(String key) {
      throw new UnsupportedOperationException("not used by the gateway");
    }

    @Override
    public FleetMetrics metrics() {
      throw new UnsupportedOperationException("not used by the gateway");
    }

    Map.Entry<String, Room.Command> next() throws InterruptedException {
      Map.Entry<String, Room.Command> e = told.poll(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (e == null) {
        throw new AssertionError("the gateway told the fleet nothing");
      }
      return e;
    }
  }

  private ActorTestKit kit;
  private RecordingFleet fleet;
  private TestProbe<Gateway.Out> browser;
  private ActorRef<Gateway.Command> gateway;

  @BeforeEach
  void start() {
    kit = ActorTestKit.create();
    fleet = new RecordingFleet();
    browser = kit.createTestProbe();
    ChatSettings settings =
        ChatSettings.fromConfig(
            ConfigFactory.parseString("chat.rate-limit-per-second = 3")
                .withFallback(ConfigFactory.load()));
    gateway = kit.spawn(Gateway.create(fleet, settings, new ChatMetrics("test"), browser.ref()));
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  private JsonNode frame() throws Exception {
    Gateway.Out out = browser.receiveMessage(TIMEOUT);
    return JSON.readTree(assertInstanceOf(Gateway.Frame.class, out).json());
  }

  private void client(String json) {
    gateway.tell(new Gateway.FromClient(json));
  }

  @Test
  void joinedRoomsOnlyAndWithinTheRateLimit() throws Exception {
    client("{\"type\":\"post\",\"room\":\"r\",\"id\":\"early\",\"text\":\"hi\"}");
    JsonNode early = frame();
    assertTrue(early.path("error").asText().contains("join room [r]"), early.toString());
    assertEquals("early", early.path("id").asText());

    client("{\"type\":\"join\",\"room\":\"r\",\"user\":\"ann\"}");
    Map.Entry<String, Room.Command> join = fleet.next();
    assertEquals("r", join.getKey());
    assertEquals("ann", assertInstanceOf(Room.Join.class, join.getValue()).user());

    for (int i = 0; i < 5; i++) {
      client("{\"type\":\"post\",\"room\":\"r\",\"id\":\"p" + i + "\",\"text\":\"m" + i + "\"}");
    }
    int posted = 0;
    Map.Entry<String, Room.Command> e;
    while ((e = fleet.told.poll(300, TimeUnit.MILLISECONDS)) != null) {
      assertInstanceOf(Room.Post.class, e.getValue());
      posted++;
    }
    assertEquals(3, posted, "a burst of the rate (3), then refusals");
    JsonNode limited = frame();
    assertTrue(limited.path("error").asText().contains("rate limit"), limited.toString());
  }

  @Test
  void aPostWithoutAnAnswerFromItsRoomGetsAnErrorNamingItAfterTheAckTimeout() throws Exception {
    ChatSettings settings =
        ChatSettings.fromConfig(
            ConfigFactory.parseString("chat.ack-timeout = 300ms")
                .withFallback(ConfigFactory.load()));
    ActorRef<Gateway.Command> g =
        kit.spawn(Gateway.create(fleet, settings, new ChatMetrics("test"), browser.ref()));
    g.tell(new Gateway.FromClient("{\"type\":\"join\",\"room\":\"r\",\"user\":\"ann\"}"));
    fleet.next();
    long sent = System.nanoTime();
    g.tell(
        new Gateway.FromClient(
            "{\"type\":\"post\",\"room\":\"r\",\"id\":\"lost\",\"text\":\"a\"}"));
    g.tell(
        new Gateway.FromClient(
            "{\"type\":\"post\",\"room\":\"r\",\"id\":\"kept\",\"text\":\"b\"}"));
    assertInstanceOf(Room.Post.class, fleet.next().getValue());
    assertInstanceOf(Room.Post.class, fleet.next().getValue());
    g.tell(new Gateway.Acked("r", "kept", 1));
    assertEquals("ack", frame().path("type").asText());

    JsonNode lost = frame(); // the room never answered "lost" (its node died with it in flight)
    assertTrue(System.nanoTime() - sent >= TimeUnit.MILLISECONDS.toNanos(300), "not before");
    assertEquals("lost", lost.path("id").asText(), lost.toString());
    assertTrue(
        lost.path("error").asText().contains("no acknowledgement within 300 ms (room r)"),
        lost.toString());
    browser.expectNoMessage(Duration.ofMillis(600)); // "kept" was acknowledged: no error for it

    g.tell(new Gateway.Acked("r", "lost", 2)); // stored after all: the ack is passed on
    assertEquals("ack", frame().path("type").asText());
  }

  @Test
  void eventsFromRoomsBecomeFramesAndAClosedRoomIsLeft() throws Exception {
    client("{\"type\":\"join\",\"room\":\"r\",\"user\":\"ann\"}");
    fleet.next();
    gateway.tell(new Gateway.NewMessage(new ChatMessage("r", 1, "bob", "yo", 5)));
    JsonNode message = frame();
    assertEquals("message", message.path("type").asText());
    assertEquals("yo", message.path("text").asText());

    gateway.tell(new Gateway.Rejoin("r"));
    assertInstanceOf(Room.Join.class, fleet.next().getValue(), "joined rooms are joined again");
    gateway.tell(new Gateway.Rejoin("elsewhere"));

    gateway.tell(new Gateway.Closed("r", "room closed: idle"));
    assertEquals("notice", frame().path("type").asText());
    client("{\"type\":\"post\",\"room\":\"r\",\"id\":\"late\",\"text\":\"hello?\"}");
    assertTrue(frame().path("error").asText().contains("join room [r]"));
    assertTrue(fleet.told.isEmpty(), "no rejoin of a room it was not in, no post after the close");
  }

  @Test
  void aBinaryFrameIsRefusedAndAnOversizedOneEndsTheConnection() throws Exception {
    gateway.tell(new Gateway.Binary());
    assertTrue(frame().path("error").asText().contains("binary"));
    gateway.tell(new Gateway.TooBig(100_000));
    assertTrue(frame().path("error").asText().contains("too big"));
    assertInstanceOf(Gateway.Close.class, browser.receiveMessage(TIMEOUT));
    // it waits for the stream to end (stopping at once could drop the buffered error frame) and
    // handles nothing more meanwhile
    client("{\"type\":\"ping\"}");
    browser.expectNoMessage(Duration.ofMillis(300));
    gateway.tell(new Gateway.ClientGone());
    browser.expectTerminated(gateway, TIMEOUT);
  }

  @Test
  void leavingTheConnectionLeavesItsRooms() throws Exception {
    client("{\"type\":\"join\",\"room\":\"a\",\"user\":\"ann\"}");
    client("{\"type\":\"join\",\"room\":\"b\",\"user\":\"ann\"}");
    fleet.next();
    fleet.next();
    gateway.tell(new Gateway.ClientGone());
    Set<String> left = new java.util.HashSet<>();
    for (int i = 0; i < 2; i++) {
      Map.Entry<String, Room.Command> e = fleet.next();
      assertInstanceOf(Room.Leave.class, e.getValue());
      left.add(e.getKey());
    }
    assertEquals(Set.of("a", "b"), left);
  }
}
