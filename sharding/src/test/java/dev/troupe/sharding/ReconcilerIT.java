package dev.troupe.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Reconciler} on two in-JVM nodes sharing one H2 database. Each test uses fleets and
 * repositories of its own; reconcilers run their rounds on {@code runOnce} (their interval is an
 * hour) unless the test is about the other triggers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class ReconcilerIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** A stored room: open rooms should have a running worker. */
  record Room(boolean open) {}

  /** The room worker's protocol: only a wake-up. */
  enum Wake implements TroupeSerializable {
    INSTANCE
  }

  /** The protocol of rooms that note how they ended. */
  sealed interface Door extends TroupeSerializable {}

  /** The wake message of doors. */
  enum Open implements Door {
    INSTANCE
  }

  /** The stop message of doors' fleets. */
  enum Close implements Door {
    INSTANCE
  }

  /** Keys whose worker got the stop message. */
  static final Set<String> CLOSED = ConcurrentHashMap.newKeySet();

  /** Keys whose worker's PostStop ran. */
  static final Set<String> ENDED = ConcurrentHashMap.newKeySet();

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(2, "troupe.storage.url = \"" + TestDatabases.freshH2Url() + "\"");

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  private static Behavior<Wake> room(String key) {
    return Behaviors.receive(Wake.class).onAnyMessage(m -> Behaviors.same()).build();
  }

  private static Behavior<Door> door(String key) {
    return Behaviors.receive(Door.class)
        .onMessageEquals(
            Close.INSTANCE,
            () -> {
              CLOSED.add(key);
              return Behaviors.stopped();
            })
        .onMessage(Door.class, m -> Behaviors.same())
        .onSignal(
            PostStop.class,
            s -> {
              ENDED.add(key);
              return Behaviors.same();
            })
        .build();
  }

  /** The fleet {@code name} of doors on every node, with {@link Close} as its stop message. */
  private List<WorkerFleet<Door>> doors(String name) {
    List<WorkerFleet<Door>> fleets = new ArrayList<>();
    for (TroupeNode node : cluster.get().liveNodes()) {
      fleets.add(
          WorkerFleet.start(
              node,
              FleetSpec.of(name, Door.class, ReconcilerIT::door)
                  .withIdleTimeout(Duration.ZERO)
                  .withStopMessage(Close.INSTANCE)));
    }
    return fleets;
  }

  /**
   * A reconciler on every node of {@code fleets}, against repository {@code name}, each built by
   * {@code options} from a builder with an interval of an hour.
   */
  private <M> List<Reconciler<Room, M>> reconcilers(
      List<WorkerFleet<M>> fleets,
      String name,
      UnaryOperator<Reconciler.Builder<Room, M>> options) {
    List<Reconciler<Room, M>> reconcilers = new ArrayList<>();
    for (int i = 0; i < fleets.size(); i++) {
      TroupeNode node = cluster.get().node(i);
      reconcilers.add(
          options
              .apply(
                  Reconciler.builder(fleets.get(i), rooms(node, name))
                      .interval(Duration.ofHours(1)))
              .start(node));
    }
    return reconcilers;
  }

  /** A round on every node, in node order. */
  private static <M> List<Reconciler.Round> roundEverywhere(List<Reconciler<Room, M>> reconcilers) {
    List<Reconciler.Round> rounds = new ArrayList<>();
    for (Reconciler<Room, M> reconciler : reconcilers) {
      rounds.add(await(reconciler.runOnce()));
    }
    return rounds;
  }

  private static double fixes(List<? extends WorkerFleet<?>> fleets, String fix) {
    double sum = 0;
    for (WorkerFleet<?> fleet : fleets) {
      sum +=
          fleet
              .metrics()
              .registry()
              .find(FleetMetrics.RECONCILER_FIXES)
              .tag("fix", fix)
              .counters()
              .stream()
              .mapToDouble(c -> c.count())
              .sum();
    }
    return sum;
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
              .tag("fix", "worker-started")
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

  /** Stores {@code count} open rooms {@code prefix-0 ..} and returns their keys. */
  private Set<String> openRooms(String repository, String prefix, int count) {
    Repository<Room> rooms = rooms(cluster.get().node(0), repository);
    Set<String> keys = new TreeSet<>();
    for (int i = 0; i < count; i++) {
      rooms.save(prefix + "-" + i, new Room(true), 0);
      keys.add(prefix + "-" + i);
    }
    return keys;
  }

  /** Closes the stored rooms {@code keys}. */
  private void close(String repository, Set<String> keys) {
    Repository<Room> rooms = rooms(cluster.get().node(0), repository);
    for (String key : keys) {
      rooms.save(key, new Room(false), rooms.load(key).orElseThrow().version());
    }
  }

  /**
   * Waits until exactly {@code keys} run, as the shards list them and as the nodes' workers have
   * registered themselves (the {@code troupe.fleet.active} gauges, which a reconciler's view reads:
   * a shard lists a worker a moment before it has started).
   */
  private static void awaitActive(
      List<? extends WorkerFleet<?>> fleets, Set<String> keys, String what) {
    Eventually.awaitAssert(
        TIMEOUT,
        what,
        () -> {
          assertEquals(keys, new TreeSet<>(await(fleets.get(0).activeKeys())));
          double registered = 0;
          for (WorkerFleet<?> fleet : fleets) {
            registered += fleet.metrics().registry().get(FleetMetrics.ACTIVE).gauge().value();
          }
          assertEquals(keys.size(), registered, "workers registered on their nodes");
        });
  }

  @Test
  void workersOfClosedRoomsArePassivatedWithTheirStopMessage() {
    List<WorkerFleet<Door>> fleets = doors("suites");
    Set<String> open = openRooms("suites", "suite", 10);
    List<Reconciler<Room, Door>> reconcilers =
        reconcilers(
            fleets,
            "suites",
            b ->
                b.activeWhen(Room::open).wakeWith(k -> Open.INSTANCE).retire(RetireMode.PASSIVATE));
    roundEverywhere(reconcilers);
    awaitActive(fleets, open, "every open suite running");

    Set<String> closed = Set.of("suite-0", "suite-3", "suite-4", "suite-9");
    close("suites", closed);
    int retired = roundEverywhere(reconcilers).stream().mapToInt(r -> r.workersRetired()).sum();
    assertEquals(4, retired, "each closed suite's worker retired by the node it runs on");
    Set<String> stillOpen = new TreeSet<>(open);
    stillOpen.removeAll(closed);
    awaitActive(fleets, stillOpen, "the open suites only");
    Eventually.awaitAssert(
        TIMEOUT,
        "the closed suites' stop messages",
        () -> assertTrue(CLOSED.containsAll(closed), "stop message received: " + CLOSED));
    assertTrue(ENDED.containsAll(closed), "PostStop of the closed suites: " + ENDED);
    assertEquals(4, fixes(fleets, "worker-retired"));
    for (WorkerFleet<Door> fleet : fleets) {
      assertTrue(
          fleet.metrics().registry().find(FleetMetrics.RECONCILER_ROUND).timer().count() >= 2,
          "rounds timed on " + fleet);
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "nothing left to retire",
        () ->
            assertEquals(
                0, roundEverywhere(reconcilers).stream().mapToInt(r -> r.workersRetired()).sum()));
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void workersOfClosedRoomsAreStoppedAtOnceWithoutTheirStopMessage() {
    List<WorkerFleet<Door>> fleets = doors("wings");
    Set<String> open = openRooms("wings", "wing", 6);
    List<Reconciler<Room, Door>> reconcilers =
        reconcilers(
            fleets,
            "wings",
            b -> b.activeWhen(Room::open).wakeWith(k -> Open.INSTANCE).retire(RetireMode.STOP));
    roundEverywhere(reconcilers);
    awaitActive(fleets, open, "every open wing running");

    Set<String> closed = Set.of("wing-1", "wing-2");
    close("wings", closed);
    int retired = roundEverywhere(reconcilers).stream().mapToInt(r -> r.workersRetired()).sum();
    assertEquals(2, retired);
    awaitActive(fleets, Set.of("wing-0", "wing-3", "wing-4", "wing-5"), "open wings");
    Eventually.awaitAssert(
        TIMEOUT,
        "the closed wings' PostStop",
        () -> assertTrue(ENDED.containsAll(closed), "PostStop ran: " + ENDED));
    for (String key : closed) {
      assertFalse(CLOSED.contains(key), key + " got the stop message, though STOP skips it");
    }
    // A stopped worker starts again on its next message, like a passivated one.
    fleets.get(1).tell("wing-1", Open.INSTANCE);
    Eventually.awaitCondition(
        TIMEOUT,
        "wing-1 running again",
        () -> await(fleets.get(0).activeKeys()).contains("wing-1"));
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void aDesiredKeysSourceDecidesWhichWorkersStartAndWhichRetire() {
    List<WorkerFleet<Door>> fleets = doors("studios");
    ConcurrentSkipListSet<String> wanted =
        new ConcurrentSkipListSet<>(List.of("studio-1", "studio-2", "studio-3", "studio-4"));
    List<Reconciler<Room, Door>> reconcilers =
        reconcilers(
            fleets,
            "studios", // empty: the source decides
            b ->
                b.desired(DesiredKeys.of(wanted))
                    .wakeWith(k -> Open.INSTANCE)
                    .retire(RetireMode.STOP));
    int started = roundEverywhere(reconcilers).stream().mapToInt(r -> r.workersStarted()).sum();
    assertEquals(4, started);
    awaitActive(fleets, Set.copyOf(wanted), "the source's keys running");

    wanted.remove("studio-2");
    wanted.remove("studio-3");
    fleets.get(0).tell("studio-9", Open.INSTANCE); // started by a message, never desired
    awaitActive(fleets, Set.of("studio-1", "studio-2", "studio-3", "studio-4", "studio-9"), "+9");
    int retired = roundEverywhere(reconcilers).stream().mapToInt(r -> r.workersRetired()).sum();
    assertEquals(3, retired);
    awaitActive(fleets, Set.of("studio-1", "studio-4"), "only the desired studios");
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void warmWhenLoadsTheDesiredHotKeysIntoEveryNodesCache() {
    List<WorkerFleet<Wake>> fleets = fleets("lounges");
    Repository<Room> repository = rooms(cluster.get().node(0), "lounges");
    for (String key : List.of("hot-1", "hot-2", "cold-1")) {
      repository.save(key, new Room(true), 0);
    }
    repository.save("hot-closed", new Room(false), 0);
    List<ReadCache<Room>> caches = new ArrayList<>();
    for (TroupeNode node : cluster.get().liveNodes()) {
      caches.add(ReadCache.create(node, rooms(node, "lounges")));
    }
    for (ReadCache<Room> cache : caches) {
      assertTrue(cache.peek("hot-1").isEmpty(), "nothing cached yet");
    }
    List<Reconciler<Room, Wake>> reconcilers = new ArrayList<>();
    for (int i = 0; i < fleets.size(); i++) {
      TroupeNode node = cluster.get().node(i);
      reconcilers.add(
          Reconciler.builder(fleets.get(i), rooms(node, "lounges"))
              .activeWhen(Room::open)
              .wakeWith(k -> Wake.INSTANCE)
              .cache(caches.get(i))
              .warmWhen(key -> key.startsWith("hot-"))
              .interval(Duration.ofHours(1))
              .start(node));
    }
    List<Reconciler.Round> rounds = roundEverywhere(reconcilers);
    for (int i = 0; i < caches.size(); i++) {
      ReadCache<Room> cache = caches.get(i);
      assertEquals(2, rounds.get(i).cacheEntriesWarmed(), "warmed on node " + i);
      assertEquals(1, cache.peek("hot-1").orElseThrow().version());
      assertTrue(cache.peek("hot-2").isPresent(), "hot-2 on node " + i);
      assertTrue(cache.peek("cold-1").isEmpty(), "cold-1 is not hot");
      assertTrue(cache.peek("hot-closed").isEmpty(), "hot-closed is not desired");
      assertEquals(0, cache.missCount(), "warming is not a read");
    }
    assertEquals(4, fixes(fleets, "cache-warmed"));
    assertEquals(
        0, roundEverywhere(reconcilers).stream().mapToInt(r -> r.cacheEntriesWarmed()).sum());
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void warmHottestKeepsTheMostReadKeysCached() {
    List<WorkerFleet<Wake>> fleets = fleets("parlors");
    TroupeNode node = cluster.get().node(1);
    Repository<Room> repository = rooms(node, "parlors");
    ReadCache<Room> cache = ReadCache.create(node, repository);
    // Reads are sampled (one in 16 counts): enough of them that the order is certain.
    int[] reads = {3200, 1600, 320, 0};
    for (int i = 0; i < reads.length; i++) {
      repository.save("parlor-" + i, new Room(true), 0);
      for (int r = 0; r < reads[i]; r++) {
        cache.get("parlor-" + i);
      }
    }
    assertEquals(List.of("parlor-0", "parlor-1", "parlor-2"), cache.hotKeys(10));
    // Another node writes them: this node's copies are dropped, the next reads would miss.
    for (int i = 0; i < reads.length; i++) {
      repository.save("parlor-" + i, new Room(true), 1);
      cache.invalidate("parlor-" + i);
      assertTrue(cache.peek("parlor-" + i).isEmpty());
    }
    Reconciler<Room, Wake> reconciler =
        Reconciler.builder(fleets.get(1), repository)
            .cache(cache)
            .warmHottest(2)
            .interval(Duration.ofHours(1))
            .start(node);
    Reconciler.Round round = await(reconciler.runOnce());
    assertEquals(2, round.cacheEntriesWarmed());
    assertEquals(2, cache.peek("parlor-0").orElseThrow().version(), "the new version, warmed");
    assertEquals(2, cache.peek("parlor-1").orElseThrow().version());
    assertTrue(cache.peek("parlor-2").isEmpty(), "third by reads: not among the top 2");
    assertTrue(cache.peek("parlor-3").isEmpty(), "never read");
    assertEquals(List.of("parlor-0", "parlor-1"), cache.cachedKeysAfter(null, 10));
    assertEquals(List.of("parlor-1"), cache.cachedKeysAfter("parlor-0", 10));
    reconciler.stop();
  }

  @Test
  void theBudgetBoundsEachRoundAndTheNextRoundsWrapAround() {
    List<WorkerFleet<Wake>> fleets = fleets("wards");
    Set<String> open = openRooms("wards", "ward", 10);
    List<Reconciler<Room, Wake>> reconcilers =
        reconcilers(
            fleets, "wards", b -> b.activeWhen(Room::open).wakeWith(k -> Wake.INSTANCE).budget(4));
    List<List<Integer>> scanned = List.of(new ArrayList<>(), new ArrayList<>());
    for (int round = 0; round < 4; round++) {
      List<Reconciler.Round> rounds = roundEverywhere(reconcilers);
      for (int i = 0; i < rounds.size(); i++) {
        scanned.get(i).add(rounds.get(i).scanned());
        assertFalse(rounds.get(i).cutShort(), "a budget is not a cut");
      }
    }
    assertEquals(List.of(4, 4, 2, 4), scanned.get(0), "4 + 4 + the last 2, then from the first");
    assertEquals(List.of(4, 4, 2, 4), scanned.get(1));
    awaitActive(fleets, open, "every ward, after one lap of rounds");
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void theTimeLimitCutsARoundShortAndTheNextGoesOn() {
    List<WorkerFleet<Wake>> fleets = fleets("vaults");
    Set<String> open = openRooms("vaults", "vault", 5);
    List<Reconciler<Room, Wake>> reconcilers =
        reconcilers(
            fleets,
            "vaults",
            b ->
                b.activeWhen(Room::open)
                    .wakeWith(k -> Wake.INSTANCE)
                    .timeLimit(Duration.ofNanos(1))); // up after each round's first key
    for (int round = 0; round < 5; round++) {
      for (Reconciler.Round r : roundEverywhere(reconcilers)) {
        assertEquals(1, r.scanned(), "one key per round");
        // The fifth round's key is the last: nothing was left to cut.
        assertEquals(round < 4, r.cutShort(), "round " + round + " cut short by its time limit");
      }
    }
    awaitActive(fleets, open, "every vault, one key per round");
    reconcilers.forEach(Reconciler::stop);
  }

  @Test
  void aNodeJoiningAndLeavingTriggersARoundBeforeTheInterval() {
    List<WorkerFleet<Wake>> fleets = fleets("galleries");
    openRooms("galleries", "gallery", 3);
    List<Reconciler<Room, Wake>> reconcilers =
        reconcilers(
            fleets, "galleries", b -> b.activeWhen(Room::open).wakeWith(k -> Wake.INSTANCE));
    for (Reconciler<Room, Wake> reconciler : reconcilers) {
      assertEquals(Optional.empty(), await(reconciler.lastRound()), "no round before the hour");
    }
    int joined = cluster.get().nodes().size();
    cluster.get().addNode();
    try {
      for (Reconciler<Room, Wake> reconciler : reconcilers) {
        Eventually.awaitCondition(
            TIMEOUT, "a round after the join", () -> await(reconciler.lastRound()).isPresent());
      }
      Instant afterJoin = await(reconcilers.get(0).lastRound()).orElseThrow().at();
      cluster.get().leave(joined);
      Eventually.awaitCondition(
          TIMEOUT,
          "a round after the leave",
          () -> await(reconcilers.get(0).lastRound()).orElseThrow().at().isAfter(afterJoin));
    } finally {
      if (cluster.get().isLive(joined)) {
        cluster.get().leave(joined);
      }
      reconcilers.forEach(Reconciler::stop);
    }
  }

  @Test
  void inconsistentOptionsAreRejectedAtStart() {
    WorkerFleet<Wake> fleet = fleets("attics").get(0);
    TroupeNode node = cluster.get().node(0);
    Repository<Room> repository = rooms(node, "attics");
    DesiredKeys none = DesiredKeys.of(new ConcurrentSkipListSet<>());
    List<Reconciler.Builder<Room, Wake>> invalid =
        List.of(
            Reconciler.builder(fleet, repository).desired(none),
            Reconciler.builder(fleet, repository)
                .desired(none)
                .activeWhen(Room::open)
                .wakeWith(k -> Wake.INSTANCE),
            Reconciler.builder(fleet, repository).warmHottest(5),
            Reconciler.builder(fleet, repository).warmWhen(k -> true),
            Reconciler.builder(fleet, repository)
                .cache(ReadCache.create(node, rooms(node, "other-attics"))));
    for (Reconciler.Builder<Room, Wake> builder : invalid) {
      assertThrows(IllegalArgumentException.class, () -> builder.start(node));
    }
    assertThrows(
        IllegalArgumentException.class, () -> Reconciler.builder(fleet, repository).retire(null));
    assertThrows(
        IllegalArgumentException.class,
        () -> Reconciler.builder(fleet, repository).warmHottest(ReadCache.HOT_KEYS_TRACKED + 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> Reconciler.builder(fleet, repository).timeLimit(Duration.ZERO));
  }
}
