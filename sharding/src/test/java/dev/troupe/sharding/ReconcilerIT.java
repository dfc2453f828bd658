package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.storage.Storage;
import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ReconcilerIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** A stored room: open rooms should have a running worker. */
  record Room(boolean open) {}

  /** The room worker's protocol: only a wake-up. */
  enum Wake implements TroupeSerializable {
    INSTANCE
  }

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(2, "troupe.storage.url = \"" + TestDatabases.freshH2Url() + "\"");

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  private static Behavior<Wake> room(String key) {
    return Behaviors.receive(Wake.class).onAnyMessage(m -> Behaviors.same()).build();
  }

  private Repository<Room> rooms(TroupeNode node, String name) {
    return Repository.create(Storage.get(node.system()), node.namespace(), name, Room.class);
  }

  private List<WorkerFleet<Wake>> fleets(String name) {
    List<WorkerFleet<Wake>> fleets = new ArrayList<>();
    for (TroupeNode node : cluster.get().liveNodes()) {
      fleets.add(
          WorkerFleet.start(
              node,
              FleetSpec.of(name, Wake.class, ReconcilerIT::room).withIdleTimeout(Duration.ZERO)));
    }
    return fleets;
  }

  @Test
  void theWorkersOfOpenRoomsAreStartedByTheReconcilerOfTheirNode() {
    List<WorkerFleet<Wake>> fleets = fleets("rooms");
    Repository<Room> repository = rooms(cluster.get().node(0), "rooms");
    Set<String> open = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      repository.save("room-" + i, new Room(i % 2 == 0), 0);
      if (i % 2 == 0) {
        open.add("room-" + i);
      }
    }
    List<Reconciler<Room, Wake>> reconcilers = new ArrayList<>();
    for (int i = 0; i < fleets.size(); i++) {
      reconcilers.add(
          Reconciler.builder(fleets.get(i), rooms(cluster.get().node(i), "rooms"))
              .activeWhen(Room::open)
              .wakeWith(key -> Wake.INSTANCE)
              .interval(Duration.ofHours(1))
              .start(cluster.get().node(i)));
    }
    int started = 0;
    int owned = 0;
    for (Reconciler<Room, Wake> reconciler : reconcilers) {
      Reconciler.Round round = await(reconciler.runOnce());
      started += round.workersStarted();
      owned += round.owned();
    }
    assertEquals(20, owned, "every key reconciled by exactly one node");
    assertEquals(10, started, "one worker started per open room");
    Eventually.awaitAssert(
        TIMEOUT,
        "the open rooms running",
        () -> assertEquals(open, await(fleets.get(0).activeKeys())));

    // A second round finds nothing to fix.
    Eventually.awaitAssert(
        TIMEOUT,
        "a round with nothing to fix",
        () -> {
          int again = 0;
          for (Reconciler<Room, Wake> reconciler : reconcilers) {
            again += await(reconciler.runOnce()).workersStarted();
          }
          assertEquals(0, again);
        });
    double fixes = 0;
    for (WorkerFleet<Wake> fleet : fleets) {
      fixes +=
          fleet
              .metrics()
              .registry()
              .find("troupe.fleet.reconciler.fixes")
              .tag("kind", "worker-started")
              .counters()
              .stream()
              .mapToDouble(c -> c.count())
              .sum();
    }
    assertTrue(fixes >= 10, "fixes counted: " + fixes);
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void aStaleCacheEntryIsDroppedAndTheNextReadGetsTheStoredValue() {
    List<WorkerFleet<Wake>> fleets = fleets("lobby");
    TroupeNode node = cluster.get().node(1);
    Repository<Room> repository = rooms(node, "lobby");
    ReadCache<Room> cache = ReadCache.create(node, repository);
    repository.save("lobby-1", new Room(false), 0);
    assertEquals(1, cache.get("lobby-1").orElseThrow().version());

    // A write that bypasses the cache (another service, a manual fix): no invalidation.
    repository.save("lobby-1", new Room(true), 1);
    assertEquals(1, cache.peek("lobby-1").orElseThrow().version(), "stale until repaired");

    Reconciler<Room, Wake> reconciler =
        Reconciler.builder(fleets.get(1), repository).cache(cache).start(node);
    Reconciler.Round round = await(reconciler.runOnce());
    assertEquals(1, round.cacheEntriesDropped());
    assertEquals(2, cache.get("lobby-1").orElseThrow().version());
    assertTrue(await(reconciler.lastRound()).isPresent());
    reconciler.stop();
  }

  @Test
  void roundsRunByThemselvesEveryInterval() {
    List<WorkerFleet<Wake>> fleets = fleets("cellars");
    Repository<Room> repository = rooms(cluster.get().node(0), "cellars");
    repository.save("cellar-1", new Room(true), 0);
    List<Reconciler<Room, Wake>> reconcilers = new ArrayList<>();
    for (int i = 0; i < fleets.size(); i++) {
      reconcilers.add(
          Reconciler.builder(fleets.get(i), rooms(cluster.get().node(i), "cellars"))
              .activeWhen(Room::open)
              .wakeWith(key -> Wake.INSTANCE)
              .interval(Duration.ofMillis(300))
              .start(cluster.get().node(i)));
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "cellar-1 started without runOnce",
        () -> assertEquals(Set.of("cellar-1"), await(fleets.get(1).activeKeys())));
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void activeWhenWithoutWakeWithIsRejected() {
    WorkerFleet<Wake> fleet = fleets("halls").get(0);
    Repository<Room> repository = rooms(cluster.get().node(0), "halls");
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Reconciler.builder(fleet, repository)
                    .activeWhen(Room::open)
                    .start(cluster.get().node(0)));
    assertTrue(error.getMessage().contains("wakeWith"), error.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Reconciler.builder(fleet, null));
    assertThrows(
        IllegalArgumentException.class, () -> Reconciler.builder(fleet, repository).budget(0));
  }
}
