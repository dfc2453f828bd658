package dev.troupe.samples.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.troupe.core.TroupeNode;
import dev.troupe.cron.Cron;
import dev.troupe.daemons.DaemonInfo;
import dev.troupe.daemons.Daemons;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two hello applications, each an ordinary Pekko system named "hello" with its own guardian, form a
 * cluster and share what their guardians attached: the registry, a fleet, a daemon and a cron job
 * (one database, an in-memory H2 shared by both systems of this JVM).
 */
final class HelloClusterIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final List<ActorSystem<Void>> apps = new ArrayList<>();

  @AfterEach
  void terminate() throws Exception {
    apps.forEach(ActorSystem::terminate);
    for (ActorSystem<Void> app : apps) {
      app.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private ActorSystem<Void> app(String database) {
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "pekko.remote.artery.canonical.port = 0",
                    "pekko.cluster.seed-nodes = []",
                    "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
                    "pekko.cluster.split-brain-resolver.stable-after = 3s",
                    "troupe.storage.url = \"jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1\""))
            .withFallback(ConfigFactory.load());
    ActorSystem<Void> app = HelloApp.start(config);
    apps.add(app);
    return app;
  }

  /** The application's own front desk on {@code app}, found through Pekko's receptionist. */
  private static ActorRef<FrontDesk.Command> frontDesk(ActorSystem<Void> app) {
    TestProbe<Receptionist.Listing> probe = TestProbe.create(app);
    return probe.awaitAssert(
        TIMEOUT,
        () -> {
          app.receptionist().tell(Receptionist.find(HelloApp.FRONT_DESK, probe.ref()));
          return probe.receiveMessage(TIMEOUT).getServiceInstances(HelloApp.FRONT_DESK).stream()
              .filter(ref -> ref.path().address().hasLocalScope())
              .findFirst()
              .orElseThrow();
        });
  }

  private static Greeter.Greeting welcome(ActorSystem<Void> app, String guest) {
    TestProbe<Greeter.Greeting> probe = TestProbe.create(app);
    frontDesk(app).tell(new FrontDesk.Welcome(guest, probe.ref()));
    return probe.receiveMessage(TIMEOUT);
  }

  @Test
  void twoApplicationsShareTheRegistryAFleetADaemonAndACronJob() throws Exception {
    String database = "hello-" + UUID.randomUUID();
    ActorSystem<Void> a = app(database);
    ActorSystem<Void> b = app(database);
    Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    TroupeNode troupeA = TroupeNode.attach(a); // the guardian's node: attach is idempotent
    TroupeNode troupeB = TroupeNode.attach(b);
    troupeA.whenUp().toCompletableFuture().get(45, TimeUnit.SECONDS);
    troupeB.whenUp().toCompletableFuture().get(45, TimeUnit.SECONDS);

    // Registry: each front desk lists both, from the listings its subscription delivers.
    for (ActorSystem<Void> app : List.of(a, b)) {
      TestProbe<Integer> colleagues = TestProbe.create(app);
      colleagues.awaitAssert(
          TIMEOUT,
          () -> {
            frontDesk(app).tell(new FrontDesk.GetColleagues(colleagues.ref()));
            assertEquals(2, colleagues.receiveMessage(TIMEOUT));
            return null;
          });
    }

    // Fleet: one greeter for "alice" in the cluster, whichever desk sends her.
    Greeter.Greeting first = welcome(a, "alice");
    Greeter.Greeting second = welcome(b, "alice");
    Greeter.Greeting third = welcome(a, "alice");
    assertEquals(List.of(1, 2, 3), List.of(first.count(), second.count(), third.count()));
    assertEquals(first.node(), third.node());
    // Colocation with the ring: once both nodes' shard regions are registered (a shard allocated
    // before that is moved to its ring owner by the next rebalance), alice's greeter runs on the
    // node pickNode("alice") names.
    TestProbe<Object> placed = TestProbe.create(a);
    placed.awaitAssert(
        Duration.ofSeconds(60),
        () -> {
          assertEquals(
              troupeA.addressBook().pickNode("alice").toString(), welcome(a, "alice").node());
          return null;
        });

    // Daemon: one bell in the cluster, the same on both nodes' views.
    TestProbe<Object> check = TestProbe.create(a);
    Map<String, DaemonInfo> running =
        check.awaitAssert(
            TIMEOUT,
            () -> {
              Map<String, DaemonInfo> seen =
                  Daemons.get(troupeB)
                      .running()
                      .toCompletableFuture()
                      .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
              assertTrue(seen.containsKey("bell"), "running: " + seen);
              return seen;
            });
    assertEquals(
        running.get("bell").node(),
        Daemons.get(troupeA)
            .running()
            .toCompletableFuture()
            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)
            .get("bell")
            .node());

    // Cron: the guardian's job, fired now from b, rings the bell daemon wherever it runs.
    Cron cronB = Cron.get(troupeB);
    check.awaitAssert(
        TIMEOUT,
        () -> {
          assertTrue(
              cronB.jobs().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).stream()
                  .anyMatch(job -> job.name().equals("hourly-bell")));
          return null;
        });
    check.awaitAssert(
        TIMEOUT,
        () -> {
          // The bell registers its tick adapter when it starts; a trigger before that finds none.
          assertTrue(troupeB.addressBook().locate("bell-ticks").isPresent());
          return null;
        });
    cronB
        .triggerNow("hourly-bell")
        .toCompletableFuture()
        .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    check.awaitAssert(
        TIMEOUT,
        () -> {
          int rings =
              troupeA
                  .<Bell.Command, Integer>call("bell", Bell.GetRings::new, Duration.ofSeconds(3))
                  .toCompletableFuture()
                  .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
          assertEquals(1, rings);
          return null;
        });
  }
}
