package dev.troupe.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.junit.jupiter.api.Test;

/** Cluster Singletons under {@link TroupeLease}: they run only where the lock is held. */
final class TroupeLeaseIT {
  private static final String LEASE =
      "pekko.cluster.singleton.use-lease = \"troupe.lease\"\n"
          + "pekko.cluster.singleton.lease-retry-interval = 500ms\n";

  /** A singleton that reports "started" and "stopped" into {@code events}. */
  private static Behavior<String> reporting(BlockingQueue<String> events) {
    return Behaviors.setup(
        ctx -> {
          events.add("started");
          return Behaviors.receive(String.class)
              .onSignal(
                  PostStop.class,
                  signal -> {
                    events.add("stopped");
                    return Behaviors.same();
                  })
              .build();
        });
  }

  private static void startSingleton(TestCluster cluster, String name, BlockingQueue<String> q) {
    startSingleton(cluster, name, q, new AtomicReference<>());
  }

  /**
   * As above; each instance also puts its {@link TroupeLease#singletonLeaseCheck} into {@code
   * check}.
   */
  private static void startSingleton(
      TestCluster cluster,
      String name,
      BlockingQueue<String> q,
      AtomicReference<BooleanSupplier> check) {
    for (TroupeNode node : cluster.liveNodes()) {
      Behavior<String> checked =
          Behaviors.setup(
              ctx -> {
                check.set(TroupeLease.singletonLeaseCheck(ctx, "troupe.lease"));
                return reporting(q);
              });
      ClusterSingleton.get(node.system()).init(SingletonActor.of(checked, name));
    }
  }

  private static String leaseName(String singleton) {
    return "troupe-singleton-pekko://troupe/system/singletonManager" + singleton;
  }

  @Test
  void aSingletonDoesNotStartWhileItsLeaseIsHeldBySomeoneElse() throws Exception {
    String singleton = "guarded-" + System.nanoTime();
    try (TestCluster cluster = TestCluster.start(2, LEASE + "troupe.lease.registry = in-memory")) {
      Lock blocker = InMemoryLockRegistry.shared().tryAcquire(leaseName(singleton)).orElseThrow();
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      startSingleton(cluster, singleton, events);

      assertNull(events.poll(3, TimeUnit.SECONDS), "no start while another holder has the lease");
      blocker.release();
      assertEquals("started", events.poll(30, TimeUnit.SECONDS));
      assertTrue(
          InMemoryLockRegistry.shared().tryAcquire(leaseName(singleton)).isEmpty(),
          "the singleton's node holds the lease now");
    }
  }

  @Test
  void aSingletonStopsWhenItsLeaseIsLostAndComesBackWhenItIsFree() throws Exception {
    String singleton = "leased-" + System.nanoTime();
    try (TestDatabases.TestDatabase db = TestDatabases.freshH2();
        TestCluster cluster =
            TestCluster.start(
                2,
                LEASE
                    + "troupe.lease.registry = jdbc\n"
                    + "troupe.storage.url = \""
                    + db.url()
                    + "\"\n"
                    + "troupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
                    + " lease-duration = 4s }")) {
      BlockingQueue<String> events = new LinkedBlockingQueue<>();
      AtomicReference<BooleanSupplier> check = new AtomicReference<>();
      startSingleton(cluster, singleton, events, check);
      assertEquals("started", events.poll(30, TimeUnit.SECONDS));
      BooleanSupplier leased = check.get();
      assertTrue(leased.getAsBoolean(), "the running singleton's node holds the lease");

      // Someone else takes the lease row over (as after a partition): the holder's next renewal
      // fails, it loses the lock, and Pekko stops the singleton.
      try (Connection c = db.storage().dataSource().getConnection();
          PreparedStatement steal =
              c.prepareStatement(
                  "UPDATE troupe_lock_lease SET holder = 'intruder',"
                      + " expires_at = DATEADD(HOUR, 1, LOCALTIMESTAMP) WHERE name = ?")) {
        steal.setString(1, Namespaces.DEFAULT + ":" + leaseName(singleton));
        assertEquals(1, steal.executeUpdate(), "the lease row of the singleton");
      }
      assertEquals("stopped", events.poll(30, TimeUnit.SECONDS));
      assertFalse(leased.getAsBoolean(), "the check was false before Pekko stopped the singleton");
      assertNull(events.poll(2, TimeUnit.SECONDS), "not back while the intruder holds the lease");

      try (Connection c = db.storage().dataSource().getConnection();
          PreparedStatement free =
              c.prepareStatement(
                  "UPDATE troupe_lock_lease SET holder = NULL, expires_at = NULL WHERE name = ?")) {
        free.setString(1, Namespaces.DEFAULT + ":" + leaseName(singleton));
        free.executeUpdate();
      }
      assertEquals("started", events.poll(30, TimeUnit.SECONDS), "back once the lease is free");
      assertTrue(check.get().getAsBoolean(), "the new instance's node holds the lease again");
    }
  }
}
