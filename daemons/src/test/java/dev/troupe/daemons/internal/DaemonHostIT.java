package dev.troupe.daemons.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import dev.troupe.testkit.ClusterExtension;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The host answers Stop, and starts a newer instance of a name, only once the old instance has
 * ended: the leader starts a moved daemon elsewhere on Stopped, so an earlier answer let two
 * instances overlap.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
final class DaemonHostIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** How long the test gives an answer that must not come before the daemon ended. */
  private static final Duration NOT_BEFORE_END = Duration.ofMillis(500);

  /** Makes the daemon busy until {@code release}: a stop waits for the message to finish. */
  private record Block(CountDownLatch entered, CountDownLatch release) {}

  /** A database of its own: leases and epochs of earlier runs must not be found. */
  @RegisterExtension
  static final ClusterExtension<TestCluster> cluster =
      ClusterExtension.inJvm(
          1,
          "troupe.storage.url = \""
              + TestDatabases.freshH2Url()
              + "\"\ntroupe.daemons { lease-duration = 3s, lease-renew-interval = 500ms }");

  private TroupeNode node;
  private ActorRef<DaemonHost.Command> host;
  private DaemonStore store;
  private final ConcurrentLinkedQueue<DaemonLeader.Command> toLeader =
      new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> lifecycle = new ConcurrentLinkedQueue<>();

  private Behavior<Object> blocker(DaemonSpec spec) {
    return Behaviors.setup(
        ctx -> {
          lifecycle.add("start " + spec.epoch());
          return Behaviors.receive(Object.class)
              .onMessage(
                  Block.class,
                  block -> {
                    block.entered().countDown();
                    assertTrue(block.release().await(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
                    return Behaviors.same();
                  })
              .onSignal(
                  PostStop.class,
                  signal -> {
                    lifecycle.add("end " + spec.epoch());
                    return Behaviors.same();
                  })
              .build();
        });
  }

  @BeforeAll
  void startHost() {
    node = cluster.get().node(0);
    Map<String, Launcher<?>> launchers =
        Map.of("blocker", Launcher.of(Object.class, this::blocker));
    store = new DaemonStore(Storage.get(node.system()), node.namespace(), node.namespace());
    ActorRef<DaemonLeader.Command> leader =
        node.system()
            .systemActorOf(
                Behaviors.receiveMessage(
                    (DaemonLeader.Command m) -> {
                      toLeader.add(m);
                      return Behaviors.same();
                    }),
                "test-daemon-leader",
                Props.empty());
    host =
        node.system()
            .systemActorOf(
                DaemonHost.create(
                    node,
                    launchers,
                    role -> leader,
                    DaemonsSettings.fromConfig(node.system().settings().config()),
                    store),
                "test-daemon-host",
                Props.empty());
  }

  private DaemonHost.Started startEpoch(String name, long epoch) throws Exception {
    return (DaemonHost.Started) startAsync(name, epoch).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  private CompletableFuture<DaemonHost.StartResult> startAsync(String name, long epoch) {
    return AskPattern.<DaemonHost.Command, DaemonHost.StartResult>ask(
            host,
            replyTo ->
                new DaemonHost.Start("blocker", DaemonSpec.of(name).withEpoch(epoch), replyTo),
            TIMEOUT,
            node.system().scheduler())
        .toCompletableFuture();
  }

  /** Starts {@code name} at {@code epoch} and keeps it busy until the returned latch opens. */
  private CountDownLatch startBusy(String name, long epoch) throws Exception {
    DaemonHost.Started started = startEpoch(name, epoch);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    started.ref().tell(new Block(entered, release));
    assertTrue(entered.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the daemon is busy");
    return release;
  }

  @Test
  void stopIsAnsweredOnlyOnceTheInstanceHasEnded() throws Exception {
    lifecycle.clear();
    CountDownLatch release = startBusy("moved", 1);
    CompletableFuture<DaemonHost.Stopped> stopped =
        AskPattern.<DaemonHost.Command, DaemonHost.Stopped>ask(
                host,
                replyTo -> new DaemonHost.Stop("moved", 1, replyTo),
                TIMEOUT,
                node.system().scheduler())
            .toCompletableFuture();
    assertThrows(
        TimeoutException.class,
        () -> stopped.get(NOT_BEFORE_END.toMillis(), TimeUnit.MILLISECONDS),
        "Stopped before the daemon ended");
    assertFalse(lifecycle.contains("end 1"));

    release.countDown();
    assertEquals(new DaemonHost.Stopped("moved", 1), stopped.get(20, TimeUnit.SECONDS));
    assertEquals(List.of("start 1", "end 1"), List.copyOf(lifecycle));
    // Its lease was released before the answer: a successor elsewhere need not wait for expiry.
    assertTrue(store.claimLease("moved", "successor", 2, 60_000).claimed());
  }

  @Test
  void aStartWaitsWhileAnotherNodeHoldsTheLeaseAndGoesAheadOnceItIsFree() throws Exception {
    lifecycle.clear();
    assertTrue(store.claimLease("contested", "elsewhere", 1, 60_000).claimed());
    DaemonHost.LeaseBusy busy =
        assertInstanceOf(
            DaemonHost.LeaseBusy.class, startAsync("contested", 2).get(20, TimeUnit.SECONDS));
    assertEquals("elsewhere", busy.holder());
    assertTrue(busy.retryAfterMillis() > 50_000, "ask again after " + busy.retryAfterMillis());
    assertFalse(lifecycle.contains("start 2"), "no instance while the lease is held elsewhere");

    assertTrue(store.releaseLease("contested", "elsewhere", 1));
    assertEquals(2, startEpoch("contested", 2).epoch());
  }

  @Test
  void anInstanceWhoseLeaseIsNoLongerItsNodesStopsAndTheLeaderHearsOfIt() throws Exception {
    lifecycle.clear();
    startEpoch("taken", 1);
    // As if the lease had expired while this node was paused and another node had claimed it.
    try (Connection c = Storage.get(node.system()).dataSource().getConnection();
        PreparedStatement steal =
            c.prepareStatement(
                "UPDATE troupe_daemon_lease SET owner = 'intruder', epoch = 9"
                    + " WHERE namespace = ? AND name = 'taken'")) {
      steal.setString(1, node.namespace());
      assertEquals(1, steal.executeUpdate());
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "the instance stopped and reported",
        () -> {
          assertTrue(lifecycle.contains("end 1"), lifecycle.toString());
          assertTrue(
              toLeader.stream()
                  .anyMatch(
                      m ->
                          m instanceof DaemonLeader.Terminated t
                              && t.name().equals("taken")
                              && t.epoch() == 1),
              toLeader.toString());
        });
  }

  @Test
  void aLeaseThisNodeHoldsForAnInstanceItDoesNotRunIsReleasedAtTheNextRenewal() throws Exception {
    // As after a hand-off whose release failed (the database restarted): the row still names this
    // node, which would renew it with its running daemons' leases for ever.
    startEpoch("keeper", 1); // something to renew
    String owner =
        JdbcLockRegistry.ownerOf(Cluster.get(node.system()).selfMember().uniqueAddress());
    assertTrue(store.claimLease("stranded", owner, 1, 60_000).claimed());
    Eventually.awaitAssert(
        TIMEOUT,
        "the stranded lease is given up",
        () -> {
          DaemonStore.LeaseClaim claim = store.claimLease("stranded", "other-node", 2, 60_000);
          assertTrue(claim.claimed(), "another node can claim it now: " + claim);
        });
  }

  @Test
  void aNewerEpochStartsOnlyOnceTheOlderInstanceHasEnded() throws Exception {
    lifecycle.clear();
    CountDownLatch release = startBusy("replaced", 1);
    CompletableFuture<DaemonHost.StartResult> newer = startAsync("replaced", 2);
    assertThrows(
        TimeoutException.class,
        () -> newer.get(NOT_BEFORE_END.toMillis(), TimeUnit.MILLISECONDS),
        "the newer instance started before the older one ended");

    release.countDown();
    DaemonHost.Started started =
        assertInstanceOf(DaemonHost.Started.class, newer.get(20, TimeUnit.SECONDS));
    assertEquals(2, started.epoch());
    // The new instance's setup runs on its own after the host answered.
    Eventually.awaitAssert(
        TIMEOUT,
        "the newer instance started after the older one ended",
        () -> assertEquals(List.of("start 1", "end 1", "start 2"), List.copyOf(lifecycle)));
  }
}
