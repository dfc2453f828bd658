package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.Cron;
import dev.troupe.cron.CronDone;
import dev.troupe.cron.CronJob;
import dev.troupe.cron.CronTick;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.Stages;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two clusters on one PostgreSQL database, namespaces {@code shop-a} and {@code shop-b}, each with
 * a daemon and a cron job of the same names: each runs its own and none of the other's. Without
 * namespaces they share the leader lease (one cluster's daemons never start), the cron scheduler's
 * token (one scheduler is always stale) and the claims of each instant (every instant fires in one
 * cluster only).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class SharedDatabaseIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(40);
  private static final WorkerGroup<CronTick> TICKS = WorkerGroup.of("shared-ticks", CronTick.class);

  /** A tick as a cluster's recorder saw it. */
  private record Seen(String namespace, Instant scheduledAt) {}

  private static final Queue<Seen> SEEN = new ConcurrentLinkedQueue<>();
  private static final Map<String, AtomicInteger> SCANS = new ConcurrentHashMap<>();

  private TestDatabases.TestDatabase db;
  private TestCluster a;
  private TestCluster b;

  private String config(String namespace) {
    return "troupe.storage.url = \""
        + db.url()
        + "\"\ntroupe.namespace = "
        + namespace
        + "\ntroupe.daemons { rescan-interval = 1s, restart-backoff.min = 200ms }"
        + "\ntroupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s, lease-duration = 4s }";
  }

  private static void setUp(TroupeNode node) {
    String namespace = node.namespace();
    SCANS.put(namespace, new AtomicInteger());
    Daemons.get(node)
        .registerLauncher(
            "witness",
            Launcher.of(Witness.Command.class, Witness::create)
                .withRecovery(
                    () -> {
                      SCANS.get(namespace).incrementAndGet();
                      return List.of(List.of(DaemonSpec.of("reporter"))).iterator();
                    }));
    ActorRef<CronTick> recorder =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    tick -> {
                      SEEN.add(new Seen(namespace, tick.scheduledAt()));
                      tick.replyTo()
                          .ifPresent(r -> r.tell(new CronDone(tick.idempotencyKey(), true)));
                      return Behaviors.same();
                    }),
                "shared-tick-recorder",
                Props.empty());
    Stages.await(node.registry().register(TICKS, recorder), TIMEOUT);
  }

  @BeforeAll
  void start() {
    TestDatabases.assumePostgres();
    db = TestDatabases.freshPostgres();
    a = TestCluster.start(1, config("shop-a"));
    b = TestCluster.start(1, config("shop-b"));
    setUp(a.node(0));
    setUp(b.node(0));
  }

  @AfterAll
  void stop() {
    for (TestCluster cluster : new TestCluster[] {a, b}) {
      if (cluster != null) {
        cluster.close();
      }
    }
    if (db != null) {
      db.close();
    }
  }

  private static Map<String, DaemonInfo> running(TestCluster cluster) {
    return Stages.await(Daemons.get(cluster.node(0)).running(), TIMEOUT);
  }

  private static Set<String> nodesRunning(String daemon, TestCluster cluster) {
    String address = cluster.node(0).address().toString();
    return Witness.EVENTS.stream()
        .filter(e -> e.name().equals(daemon) && e.start() && e.node().equals(address))
        .map(e -> e.node() + " epoch " + e.epoch())
        .collect(Collectors.toSet());
  }

  @Test
  void eachClusterRunsItsOwnDaemonOfTheSameNameWithItsOwnEpochs() {
    for (TestCluster cluster : List.of(a, b)) {
      Eventually.awaitAssert(
          TIMEOUT,
          "reporter running in " + cluster.node(0).namespace(),
          () -> assertTrue(running(cluster).containsKey("reporter"), running(cluster).toString()));
    }
    Address nodeA = a.node(0).address();
    Address nodeB = b.node(0).address();
    assertEquals(nodeA, running(a).get("reporter").node());
    assertEquals(nodeB, running(b).get("reporter").node());
    assertEquals(1, running(a).get("reporter").epoch(), "a's epochs are its own");
    assertEquals(1, running(b).get("reporter").epoch(), "b's epochs are its own");

    Stages.await(
        Daemons.get(a.node(0))
            .spawner("witness", Witness.Command.class)
            .spawnRegister("importer-a", "s3://a"),
        TIMEOUT);
    assertEquals(nodeA, running(a).get("importer-a").node());
    // b's leader re-scans every second and reads the spawned daemons of its namespace: after two
    // more scans it has still not started a's importer.
    int scans = SCANS.get("shop-b").get();
    Eventually.awaitCondition(
        TIMEOUT, "two more scans in b", () -> SCANS.get("shop-b").get() >= scans + 2);
    assertFalse(running(b).containsKey("importer-a"), running(b).toString());
    assertEquals(Set.of(), nodesRunning("importer-a", b), "b never started a's importer");
    assertTrue(running(a).containsKey("importer-a"));
  }

  @Test
  void eachClusterFiresEveryInstantOfItsOwnCronJobOfTheSameName() {
    for (TestCluster cluster : List.of(a, b)) {
      Stages.await(
          Cron.get(cluster.node(0))
              .schedule(CronJob.builder("tick").spec("* * * * * *").targetGroup(TICKS).build()),
          TIMEOUT);
    }
    Eventually.awaitCondition(
        TIMEOUT,
        "6 ticks in each cluster",
        () -> instants("shop-a").size() >= 6 && instants("shop-b").size() >= 6);
    NavigableSet<Instant> inA = instants("shop-a");
    NavigableSet<Instant> inB = instants("shop-b");
    // Every instant from the later first tick to the earlier last one fired in both clusters.
    Instant from = later(inA.first(), inB.first());
    Instant to = earlier(inA.last(), inB.last());
    assertTrue(!to.isBefore(from.plusSeconds(3)), "a window of at least 4 shared instants");
    for (Instant at = from; !at.isAfter(to); at = at.plusSeconds(1)) {
      assertTrue(inA.contains(at), "shop-a fired " + at + "; it saw " + inA);
      assertTrue(inB.contains(at), "shop-b fired " + at + "; it saw " + inB);
    }
  }

  private static NavigableSet<Instant> instants(String namespace) {
    return SEEN.stream()
        .filter(s -> s.namespace().equals(namespace))
        .map(Seen::scheduledAt)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Instant later(Instant x, Instant y) {
    return x.isAfter(y) ? x : y;
  }

  private static Instant earlier(Instant x, Instant y) {
    return x.isBefore(y) ? x : y;
  }
}
