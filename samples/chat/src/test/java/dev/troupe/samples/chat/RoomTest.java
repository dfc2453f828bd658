package dev.troupe.samples.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.Repository;
import dev.troupe.testkit.ManualClock;
import dev.troupe.testkit.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A room on its own: history, acknowledgement after storing, fan-out, restart, idle close. */
final class RoomTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private ActorTestKit kit;
  private Storage storage;
  private Repository<RoomState> repository;
  private ChatStore store;
  private final ManualClock clock = new ManualClock(Instant.ofEpochMilli(1_000_000));
  private final Queue<RoomStats.Update> stats = new ConcurrentLinkedQueue<>();
  private final Queue<WorkerEntry<Gateway.Event>> gateways = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() {
    kit = ActorTestKit.create();
    storage = Storage.fromUrl(TestDatabases.freshH2Url());
    repository = Repository.create(storage, "rooms-test", RoomState.class);
    store = new ChatStore(storage);
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    storage.close();
  }

  private ActorRef<Room.Command> room(String id) {
    Room.Env env =
        new Room.Env(
            repository, store, () -> List.copyOf(gateways), stats::add, "node-a", 3, clock);
    return kit.spawn(Room.create(id, env));
  }

  private TestProbe<Gateway.Event> gateway() {
    TestProbe<Gateway.Event> probe = kit.createTestProbe();
    gateways.add(
        new WorkerEntry<>(
            "chat-gateways",
            new Address("pekko", "test"),
            probe.ref(),
            Instant.EPOCH,
            WorkerState.ACTIVE));
    return probe;
  }

  /** The next message of {@code type} (others are skipped), matching {@code test}. */
  private static <T extends Gateway.Event> T expect(
      TestProbe<Gateway.Event> probe, Class<T> type, java.util.function.Predicate<T> test) {
    List<Gateway.Event> fished =
        probe.fishForMessage(
            TIMEOUT,
            m ->
                type.isInstance(m) && test.test(type.cast(m))
                    ? FishingOutcomes.complete()
                    : FishingOutcomes.continueAndIgnore());
    return type.cast(fished.get(fished.size() - 1));
  }

  private static <T extends Gateway.Event> T expect(TestProbe<Gateway.Event> probe, Class<T> type) {
    return expect(probe, type, m -> true);
  }

  @Test
  void aPostIsAcknowledgedOnceStoredAndReachesEveryParticipant() {
    ActorRef<Room.Command> room = room("r");
    TestProbe<Gateway.Event> ann = gateway();
    TestProbe<Gateway.Event> bob = gateway();
    room.tell(new Room.Join("ann", ann.ref()));
    assertEquals(List.of(), expect(ann, Gateway.History.class).messages());
    room.tell(new Room.Join("bob", bob.ref()));
    expect(bob, Gateway.History.class);

    room.tell(new Room.Post("ann", "a1", "hello", ann.ref()));
    Gateway.Acked ack = expect(ann, Gateway.Acked.class);
    assertEquals(1, ack.seq());
    assertEquals("a1", ack.id());
    Gateway.NewMessage atBob = expect(bob, Gateway.NewMessage.class);
    assertEquals("hello", atBob.message().text());
    assertEquals("ann", atBob.message().user());

    // stored before the ack: in the repository and in the message log
    assertEquals("hello", repository.load("r").orElseThrow().value().history().get(0).text());
    assertEquals(1, store.olderThan(Long.MAX_VALUE, 10).size());
  }

  @Test
  void aRoomToldToStopAcknowledgesThePostsItHoldsBeforeItStops() {
    ActorRef<Room.Command> room = room("handed-over");
    TestProbe<Gateway.Event> ann = gateway();
    room.tell(new Room.Join("ann", ann.ref()));
    expect(ann, Gateway.History.class);
    TestProbe<Object> watcher = kit.createTestProbe();
    // the stop comes while the first write is (or may be) in flight, a second post queued
    room.tell(new Room.Post("ann", "s1", "one", ann.ref()));
    room.tell(new Room.Post("ann", "s2", "two", ann.ref()));
    room.tell(new Room.Stop());
    assertEquals(1, expect(ann, Gateway.Acked.class, a -> a.id().equals("s1")).seq());
    assertEquals(2, expect(ann, Gateway.Acked.class, a -> a.id().equals("s2")).seq());
    watcher.expectTerminated(room, TIMEOUT);
    assertEquals(2, repository.load("handed-over").orElseThrow().value().history().size());
  }

  @Test
  void theHistoryKeepsTheLatestAndARestartedRoomGoesOnFromTheStore() {
    ActorRef<Room.Command> room = room("keep");
    TestProbe<Gateway.Event> ann = gateway();
    room.tell(new Room.Join("ann", ann.ref()));
    expect(ann, Gateway.History.class);
    for (int i = 1; i <= 5; i++) {
      room.tell(new Room.Post("ann", "p" + i, "m" + i, ann.ref()));
    }
    expect(ann, Gateway.Acked.class, a -> a.seq() == 5);
    kit.stop(room);

    ActorRef<Room.Command> again = room("keep");
    // the gateways that were in it are asked to join again
    expect(ann, Gateway.Rejoin.class, r -> r.room().equals("keep"));
    TestProbe<Gateway.Event> cid = gateway();
    again.tell(new Room.Join("cid", cid.ref()));
    Gateway.History history = expect(cid, Gateway.History.class);
    assertEquals(
        List.of("m3", "m4", "m5"), history.messages().stream().map(ChatMessage::text).toList());
    again.tell(new Room.Post("cid", "c1", "m6", cid.ref()));
    Gateway.Acked ack = expect(cid, Gateway.Acked.class);
    assertEquals(6, ack.seq(), "numbering goes on after the restart");
  }

  @Test
  void aRoomTellsItsCountsToARoomStatsInstanceThatAsks() {
    ActorRef<Room.Command> room = room("counted");
    TestProbe<Gateway.Event> ann = gateway();
    room.tell(new Room.Join("ann", ann.ref()));
    room.tell(new Room.Post("ann", "a1", "one", ann.ref()));
    room.tell(new Room.Post("ann", "a2", "two", ann.ref()));
    expect(ann, Gateway.Acked.class, a -> a.seq() == 2);

    TestProbe<RoomStats.Command> instance = kit.createTestProbe();
    room.tell(new Room.ReportStats(instance.ref()));
    RoomStats.Update counts = instance.expectMessageClass(RoomStats.Update.class, TIMEOUT);
    assertEquals("counted", counts.room());
    assertEquals("node-a", counts.node());
    assertEquals(1, counts.participants());
    assertEquals(2, counts.messages());
    assertTrue(counts.open());
  }

  @Test
  void aStartingRoomStatsInstanceAsksForTheCountsAndListsTheAnswers() {
    TestProbe<ActorRef<RoomStats.Command>> asked = kit.createTestProbe();
    ActorRef<RoomStats.Command> instance = kit.spawn(RoomStats.create(asked.ref()::tell));
    assertEquals(instance, asked.expectMessageClass(ActorRef.class, TIMEOUT));
    instance.tell(new RoomStats.Update("lobby", "node-a", 3, 7, 0, true));
    TestProbe<RoomStats.Snapshot> reply = kit.createTestProbe();
    instance.tell(new RoomStats.Get(reply.ref()));
    assertEquals(
        List.of(new RoomStats.Update("lobby", "node-a", 3, 7, 0, true)),
        reply.expectMessageClass(RoomStats.Snapshot.class, TIMEOUT).rooms());
  }

  @Test
  void anIdleRoomClosesWithANoticeAndABusyOneStays() {
    ActorRef<Room.Command> room = room("idle");
    TestProbe<Gateway.Event> ann = gateway();
    room.tell(new Room.Join("ann", ann.ref()));
    expect(ann, Gateway.History.class);
    expect(ann, Gateway.Presence.class);
    room.tell(new Room.CloseIfIdle(60_000));
    ann.expectNoMessage(Duration.ofMillis(300));

    clock.advance(Duration.ofMillis(61_000));
    room.tell(new Room.CloseIfIdle(60_000));
    Gateway.Closed closed = expect(ann, Gateway.Closed.class);
    assertTrue(closed.notice().contains("closed"), closed.notice());
    ann.expectTerminated(room, TIMEOUT);
    assertTrue(stats.stream().anyMatch(u -> u.room().equals("idle") && !u.open()));
  }
}
