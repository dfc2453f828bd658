package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.Names;
import dev.troupe.core.TroupeNode;
import dev.troupe.daemons.internal.DaemonMeters;
import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DaemonsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final AtomicInteger scannerCalls = new AtomicInteger();
  // The application's registry, on every node (attached after the start: the node's composite
  // passes on the meters registered before too); the node tag tells the nodes apart.
  private static final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(
          3,
          "troupe.storage.url = \""
              + TestDatabases.freshH2Url()
              + "\"\n"
              + "troupe.daemons { rescan-interval = 2s, rebalance-interval = 1s,"
              + " rebalance-max-moves = 2, restart-backoff.min = 200ms }\n"
              + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
              + " lease-duration = 4s }");

  @BeforeAll
  void registerLaunchers() {
    for (TroupeNode node : cluster.get().liveNodes()) {
      register(node);
    }
  }

  private static void register(TroupeNode node) {
    TroupeNode.attach(node.system(), meters);
    Daemons daemons = Daemons.get(node);
    List<DaemonSpec> thirty = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      thirty.add(DaemonSpec.of("scanned-" + i, i));
    }
    daemons.registerLauncher(
        "witness",
        Launcher.of(Witness.Command.class, Witness::create)
            .withRecovery(() -> List.of(thirty.subList(0, 15), thirty.subList(15, 30)).iterator()));
    daemons.registerLauncher(
        "flaky",
        Launcher.of(Witness.Command.class, Witness::create)
            .withRecovery(
                () -> {
                  if (scannerCalls.incrementAndGet() <= 2) {
                    throw new IllegalStateException("the daemon table is not reachable yet");
                  }
                  // A name the rule of Names refuses is skipped (with a warning); not the others.
                  return List.of(
                          List.of(
                              DaemonSpec.of("skipped name"),
                              DaemonSpec.of("after-scanner-failure")))
                      .iterator();
                }));
    daemons.registerLauncher(
        "broken",
        Launcher.of(
            Witness.Command.class,
            spec -> {
              throw new IllegalStateException("this launcher cannot start [" + spec.name() + "]");
            }));
  }

  private static <T> T await(CompletionStage<T> stage) {
    return Stages.await(stage, TIMEOUT);
  }

  private String where(TroupeNode from, ActorRef<Witness.Command> daemon) {
    return await(
        AskPattern.<Witness.Command, String>ask(
            daemon, Witness.Where::new, TIMEOUT, from.system().scheduler()));
  }

  @Test
  void everyScannedDaemonRunsExactlyOnceOnItsRingOwner() {
    Daemons daemons = Daemons.get(cluster.get().node(0));
    Eventually.awaitAssert(
        TIMEOUT,
        "30 scanned daemons running",
        () -> {
          Map<String, DaemonInfo> running = await(daemons.running());
          for (int i = 0; i < 30; i++) {
            DaemonInfo info = running.get("scanned-" + i);
            assertTrue(info != null, "scanned-" + i + " runs");
            assertEquals(
                cluster.get().node(0).addressBook().pickNode("scanned-" + i),
                info.node(),
                info.name());
          }
        });
    for (int i = 0; i < 30; i++) {
      assertEquals(1, Witness.running("scanned-" + i), "instances of scanned-" + i);
      assertEquals(1, Witness.maxConcurrent("scanned-" + i), "never two of scanned-" + i);
    }
    double placed =
        meters.find(DaemonMeters.PLACEMENTS).tag("launcher", "witness").counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
    assertTrue(placed >= 30, "placements of witness daemons, over the nodes: " + placed);
  }

  /** The failovers of {@code cause} recorded (on the leader's node, wherever it is). */
  private static long failovers(String cause) {
    return meters
        .find(DaemonMeters.FAILOVERS)
        .tag("launcher", "witness")
        .tag("cause", cause)
        .timers()
        .stream()
        .mapToLong(Timer::count)
        .sum();
  }

  @Test
  void forwardSpawnStartsAPlainActorOnThePickedNodeNamesItAndRefusesAHeldName() {
    List<TroupeNode> nodes = cluster.get().liveNodes();
    Daemons from = Daemons.get(nodes.get(0));
    Set<String> hosts = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      String name = "forwarded-" + i;
      ActorRef<Witness.Command> ref =
          await(from.forwardSpawn("witness", Witness.Command.class, name, "arg", i));
      String picked = nodes.get(0).addressBook().pickNode(name).toString();
      assertTrue(where(nodes.get(1), ref).startsWith(picked), name + " runs on " + picked);
      hosts.add(picked);
      String full = ActorRefResolver.get(nodes.get(0).system()).toSerializationFormat(ref);
      for (TroupeNode node : nodes) {
        Eventually.awaitAssert(
            TIMEOUT,
            name + " in the address book of " + node.name(),
            () ->
                assertEquals(
                    full,
                    node.addressBook()
                        .lookup(name, Witness.Command.class)
                        .map(
                            found ->
                                ActorRefResolver.get(node.system()).toSerializationFormat(found))
                        .orElse(null)));
      }
    }
    assertTrue(hosts.size() >= 2, "the ring spreads the names over the nodes: " + hosts);

    // A held name is refused, from any node, naming the holder's node; nothing second starts.
    String held = nodes.get(0).addressBook().pickNode("forwarded-0").toString();
    CompletionException refused =
        assertThrows(
            CompletionException.class,
            () ->
                Daemons.get(nodes.get(2))
                    .forwardSpawn("witness", Witness.Command.class, "forwarded-0")
                    .toCompletableFuture()
                    .join());
    assertTrue(refused.getCause() instanceof IllegalStateException, refused.toString());
    assertTrue(refused.getCause().getMessage().contains(held), refused.getCause().getMessage());
    assertEquals(1, Witness.running("forwarded-0"));

    // Not a daemon: once it stops, it stays stopped and the name is free again.
    ActorRef<Witness.Command> first =
        nodes.get(0).addressBook().lookup("forwarded-0", Witness.Command.class).orElseThrow();
    first.tell(new Witness.Quit());
    Eventually.awaitAssert(
        TIMEOUT,
        "forwarded-0 gone from the address book",
        () -> assertTrue(nodes.get(2).addressBook().locate("forwarded-0").isEmpty()));
    assertEquals(0, Witness.running("forwarded-0"), "not restarted");
    ActorRef<Witness.Command> second =
        await(
            Daemons.get(nodes.get(2))
                .forwardSpawn("witness", Witness.Command.class, "forwarded-0"));
    assertTrue(where(nodes.get(0), second).startsWith(held));

    assertThrows(
        IllegalArgumentException.class,
        () -> from.forwardSpawn("no-such-launcher", Witness.Command.class, "x"));
    assertThrows(
        IllegalArgumentException.class, () -> from.forwardSpawn("witness", String.class, "x"));
    assertThrows(
        IllegalArgumentException.class,
        () -> from.forwardSpawn("witness", Witness.Command.class, " "));
  }

  @Test
  void spawnRegisterStartsADaemonOnceRegistersItAndStopRemovesIt() {
    Spawner<Witness.Command> spawner =
        Daemons.get(cluster.get().node(1)).spawner("witness", Witness.Command.class);
    ActorRef<Witness.Command> first = await(spawner.spawnRegister("spawned-a", "arg", 7));
    ActorRef<Witness.Command> again = await(spawner.spawnRegister("spawned-a", "other args"));
    assertEquals(first.path().name(), again.path().name(), "the running instance, not a second");
    assertEquals(1, Witness.running("spawned-a"));

    TroupeNode owner =
        cluster.get().liveNodes().stream()
            .filter(
                n -> n.address().equals(cluster.get().node(0).addressBook().pickNode("spawned-a")))
            .findFirst()
            .orElseThrow();
    assertTrue(where(cluster.get().node(2), first).startsWith(owner.address().toString()));
    for (TroupeNode node : cluster.get().liveNodes()) {
      Eventually.awaitAssert(
          TIMEOUT,
          "spawned-a in the address book of " + node.name(),
          () -> assertEquals(java.util.Optional.of(owner.address()), node.locate("spawned-a")));
    }
    DaemonInfo info = await(Daemons.get(cluster.get().node(2)).running()).get("spawned-a");
    assertEquals("witness", info.launcher());
    assertTrue(info.epoch() > 0, "an epoch from the lock layer: " + info);

    await(Daemons.get(cluster.get().node(0)).stop("spawned-a"));
    Eventually.awaitAssert(
        TIMEOUT, "spawned-a stopped", () -> assertEquals(0, Witness.running("spawned-a")));
    assertTrue(!await(Daemons.get(cluster.get().node(0)).running()).containsKey("spawned-a"));
  }

  @Test
  void onlyTheNodeRunningAnInstanceHoldsItsLeaseForItsEpochAndUntilItStops() {
    Spawner<Witness.Command> spawner =
        Daemons.get(cluster.get().node(2)).spawner("witness", Witness.Command.class);
    await(spawner.spawnRegister("lease-probe"));
    DaemonInfo info = await(Daemons.get(cluster.get().node(2)).running()).get("lease-probe");
    DaemonSpec spec = new DaemonSpec("lease-probe", List.of(), info.epoch());
    for (TroupeNode node : cluster.get().liveNodes()) {
      Daemons daemons = Daemons.get(node);
      if (node.address().equals(info.node())) {
        assertTrue(daemons.holdsLease(spec), "the running instance's node holds the lease");
        java.time.Instant until = daemons.leaseTrustedUntil(spec).orElseThrow();
        java.time.Instant now = java.time.Instant.now();
        assertTrue(
            until.isAfter(now) && !until.isAfter(now.plus(Duration.ofSeconds(5))),
            "trusted until " + until + ", now " + now + " (lease-duration 5 s)");
        assertTrue(!daemons.holdsLease(spec.withEpoch(info.epoch() - 1)), "an older epoch");
        assertTrue(!daemons.holdsLease(spec.withEpoch(info.epoch() + 1)), "a newer epoch");
      } else {
        assertTrue(!daemons.holdsLease(spec), node.name() + " does not run it");
        assertEquals(java.util.Optional.empty(), daemons.leaseTrustedUntil(spec));
      }
    }
    TroupeNode runner =
        cluster.get().liveNodes().stream()
            .filter(n -> n.address().equals(info.node()))
            .findFirst()
            .orElseThrow();
    await(Daemons.get(cluster.get().node(0)).stop("lease-probe"));
    Eventually.awaitAssert(
        TIMEOUT,
        "the stopped instance no longer holds its lease",
        () -> assertTrue(!Daemons.get(runner).holdsLease(spec)));
    assertThrows(IllegalArgumentException.class, () -> Daemons.get(runner).holdsLease(null));
  }

  @Test
  void aDaemonThatStopsByItselfIsStartedAgainWithALargerEpoch() {
    Spawner<Witness.Command> spawner =
        Daemons.get(cluster.get().node(0)).spawner("witness", Witness.Command.class);
    ActorRef<Witness.Command> daemon = await(spawner.spawnRegister("quitter"));
    long epoch = await(Daemons.get(cluster.get().node(0)).running()).get("quitter").epoch();
    daemon.tell(new Witness.Quit());
    Eventually.awaitAssert(
        TIMEOUT,
        "quitter running again",
        () -> {
          DaemonInfo info = await(Daemons.get(cluster.get().node(0)).running()).get("quitter");
          assertTrue(info != null && info.epoch() > epoch, String.valueOf(info));
          assertEquals(1, Witness.running("quitter"));
          // One epoch gauge, on the node that runs it now: the stopped instance's went with it.
          List<Gauge> gauges =
              List.copyOf(meters.find(DaemonMeters.EPOCH).tag("daemon", "quitter").gauges());
          assertEquals(1, gauges.size(), gauges.toString());
          assertEquals(info.epoch(), (long) gauges.get(0).value());
        });
    assertTrue(failovers("stopped") >= 1, "the restart is a failover of cause stopped");
  }

  @Test
  void aScannerThatThrowsIsRetriedAndItsDaemonsStartAfterwards() {
    Eventually.awaitAssert(
        TIMEOUT,
        "the daemon of the flaky scanner",
        () ->
            assertTrue(
                await(Daemons.get(cluster.get().node(0)).running())
                    .containsKey("after-scanner-failure")));
    assertTrue(scannerCalls.get() >= 3, "scanner calls: " + scannerCalls.get());
    assertFalse(await(Daemons.get(cluster.get().node(0)).running()).containsKey("skipped name"));
  }

  @Test
  void badInputGetsClearErrorsAndTheLeaderKeepsRunning() {
    Daemons daemons = Daemons.get(cluster.get().node(0));
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> daemons.spawner("no-such-launcher", Witness.Command.class));
    assertTrue(unknown.getMessage().contains("no-such-launcher"), unknown.getMessage());
    IllegalArgumentException duplicate =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                daemons.registerLauncher(
                    "witness", Launcher.of(Witness.Command.class, Witness::create)));
    assertTrue(duplicate.getMessage().contains("witness"), duplicate.getMessage());
    assertThrows(IllegalArgumentException.class, () -> daemons.spawner("witness", String.class));

    // Launcher and daemon names follow the rule of Names, refused before anything is sent.
    IllegalArgumentException badLauncher =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                daemons.registerLauncher(
                    "my launcher", Launcher.of(Witness.Command.class, Witness::create)));
    assertTrue(
        badLauncher.getMessage().startsWith("launcher name must be " + Names.RULE),
        badLauncher.getMessage());
    assertTrue(badLauncher.getMessage().contains("[my launcher]"), badLauncher.getMessage());

    Spawner<Witness.Command> spawner = daemons.spawner("witness", Witness.Command.class);
    IllegalArgumentException badName =
        assertThrows(IllegalArgumentException.class, () -> spawner.spawnRegister("orders/eu"));
    assertTrue(
        badName.getMessage().startsWith("daemon name must be " + Names.RULE), badName.getMessage());
    assertTrue(badName.getMessage().contains("[orders/eu] ('/'"), badName.getMessage());
    IllegalArgumentException badForward =
        assertThrows(
            IllegalArgumentException.class,
            () -> daemons.forwardSpawn("witness", Witness.Command.class, "a\nb"));
    assertTrue(badForward.getMessage().contains("[a\\u000ab]"), badForward.getMessage());
    Object notJson =
        new Object() {
          @SuppressWarnings("unused")
          public Object getSelf() {
            return this; // a cycle Jackson cannot write
          }
        };
    CompletionException badArgs =
        assertThrows(
            CompletionException.class,
            () -> spawner.spawnRegister("bad-args", notJson).toCompletableFuture().join());
    assertInstanceOf(IllegalArgumentException.class, badArgs.getCause());
    assertTrue(
        badArgs.getCause().getMessage().contains("bad-args"), badArgs.getCause().getMessage());

    CompletionException broken =
        assertThrows(
            CompletionException.class,
            () ->
                daemons
                    .spawner("broken", Witness.Command.class)
                    .spawnRegister("never-starts")
                    .toCompletableFuture()
                    .join());
    assertTrue(broken.getCause().getMessage().contains("never-starts"), broken.toString());
    // The leader still works.
    assertTrue(await(daemons.running()).size() >= 30);
  }

  @Test
  void aGracefulLeaveHandsTheNodesDaemonsOverBeforeItStops() {
    TroupeNode leaving = cluster.get().addNode();
    register(leaving);
    int index = cluster.get().nodes().indexOf(leaving);
    Spawner<Witness.Command> spawner =
        Daemons.get(cluster.get().node(0)).spawner("witness", Witness.Command.class);
    // Spawn daemons until one lands on the new node.
    String onLeaving = null;
    for (int i = 0; i < 40 && onLeaving == null; i++) {
      String name = "handed-over-" + i;
      await(spawner.spawnRegister(name));
      if (await(Daemons.get(cluster.get().node(0)).running())
          .get(name)
          .node()
          .equals(leaving.address())) {
        onLeaving = name;
      }
    }
    String name = onLeaving;
    assertTrue(name != null, "a daemon on the new node");
    cluster.get().leave(index);
    Eventually.awaitAssert(
        TIMEOUT,
        name + " running on a remaining node",
        () -> {
          DaemonInfo info = await(Daemons.get(cluster.get().node(0)).running()).get(name);
          assertTrue(info != null && !info.node().equals(leaving.address()), String.valueOf(info));
          assertEquals(1, Witness.running(name));
        });
    assertEquals(1, Witness.maxConcurrent(name), "stopped on the old node before it started anew");
  }

  @Test
  void aJoiningNodeGetsItsDaemonsAFewAtATimeEachStoppedBeforeItStartsAnew() {
    Daemons daemons = Daemons.get(cluster.get().node(0));
    Eventually.awaitAssert(
        TIMEOUT,
        "the scanned daemons running",
        () -> assertTrue(await(daemons.running()).keySet().containsAll(scannedNames())));
    TroupeNode joined = cluster.get().addNode();
    register(joined);
    // The ring is built from the address book's view of available nodes, which follows the
    // membership events: wait until the new node sees every live node (itself included).
    Set<Address> live = new HashSet<>();
    for (TroupeNode node : cluster.get().liveNodes()) {
      live.add(node.address());
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "the new node's ring holds every live node",
        () -> assertEquals(live, joined.addressBook().availableNodes()));
    List<String> toMove = new ArrayList<>();
    for (String name : scannedNames()) {
      if (joined.addressBook().pickNode(name).equals(joined.address())) {
        toMove.add(name);
      }
    }
    assertTrue(toMove.size() >= 3, "daemons whose ring owner is the new node: " + toMove);
    long start = System.nanoTime();
    Eventually.awaitAssert(
        Duration.ofSeconds(60),
        "the new node's daemons moved to it",
        () -> {
          Map<String, DaemonInfo> running = await(daemons.running());
          for (String name : toMove) {
            assertEquals(joined.address(), running.get(name).node(), name);
          }
        });
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    // At most 2 moves a second (rebalance-max-moves = 2, rebalance-interval = 1s).
    assertTrue(
        seconds >= toMove.size() / 2 - 1,
        toMove.size() + " daemons moved in " + seconds + " s: not bounded");
    for (String name : scannedNames()) {
      assertEquals(1, Witness.maxConcurrent(name), "never two instances of " + name);
      assertEquals(1, Witness.running(name), "one instance of " + name);
    }
  }

  @Test
  void theDaemonsOfACrashedNodeRunAgainElsewhereOnceItIsUnreachable() {
    TroupeNode doomed = cluster.get().addNode();
    register(doomed);
    int index = cluster.get().nodes().indexOf(doomed);
    Spawner<Witness.Command> spawner =
        Daemons.get(cluster.get().node(0)).spawner("witness", Witness.Command.class);
    List<String> onDoomed = new ArrayList<>();
    for (int i = 0; i < 60 && onDoomed.size() < 2; i++) {
      String name = "survivor-" + i;
      await(spawner.spawnRegister(name));
      if (await(Daemons.get(cluster.get().node(0)).running())
          .get(name)
          .node()
          .equals(doomed.address())) {
        onDoomed.add(name);
      }
    }
    assertTrue(onDoomed.size() == 2, "daemons on the doomed node: " + onDoomed);
    cluster.get().crashNoWait(index);
    Eventually.awaitAssert(
        TIMEOUT,
        "the crashed node's daemons running elsewhere",
        () -> {
          Map<String, DaemonInfo> running = await(Daemons.get(cluster.get().node(0)).running());
          for (String name : onDoomed) {
            DaemonInfo info = running.get(name);
            assertTrue(info != null && !info.node().equals(doomed.address()), name + ": " + info);
          }
        });
    assertTrue(failovers("node-lost") >= 2, "timed failovers: " + failovers("node-lost"));
    cluster.get().awaitRemoved(doomed.address());
  }

  private static List<String> scannedNames() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      names.add("scanned-" + i);
    }
    return names;
  }
}
