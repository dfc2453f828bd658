package dev.troupe.sharding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.TestCluster;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/** Two nodes' fleet fences on one database: a shard lease has one holder that may act. */
final class FleetFenceIT {
  private static String config(TestDatabases.TestDatabase db) {
    return "troupe.storage.url = \""
        + db.url()
        + "\"\n"
        + "troupe.sharding.fleet.single-writer { lease-duration = 3s, renew-interval = 500ms,"
        + " safety-margin = 250ms }\n";
  }

  @Test
  void aShardLeaseHeldByOneNodeIsTakenByAnotherOnlyOnceItIsReleased() throws Exception {
    try (TestDatabases.TestDatabase db = TestDatabases.freshH2();
        TestCluster cluster = TestCluster.start(2, config(db))) {
      FleetFence a = FleetFence.get(cluster.liveNodes().get(0).system());
      FleetFence b = FleetFence.get(cluster.liveNodes().get(1).system());
      assertTrue(a.acquire("s1", lost -> {}).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(a.holds("s1") && a.trusted());

      CompletableFuture<Boolean> waiting = b.acquire("s1", lost -> {}).toCompletableFuture();
      assertThrows(
          TimeoutException.class,
          () -> waiting.get(4, TimeUnit.SECONDS),
          "not while its holder runs and renews (longer than a lease)");
      assertFalse(b.holds("s1"));

      a.release("s1").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(waiting.get(10, TimeUnit.SECONDS), "taken once released");
      assertTrue(b.holds("s1"));
      assertFalse(a.holds("s1"));
    }
  }

  @Test
  void aRemovedNodeLosesItsShardsAndStopsActingBeforeAnotherNodeTakesThem() throws Exception {
    try (TestDatabases.TestDatabase db = TestDatabases.freshH2();
        TestCluster cluster = TestCluster.start(2, config(db))) {
      TroupeNode nodeA = cluster.liveNodes().get(0);
      FleetFence a = FleetFence.get(nodeA.system());
      FleetFence b = FleetFence.get(cluster.liveNodes().get(1).system());
      AtomicLong lostAt = new AtomicLong();
      assertTrue(
          a.acquire("s2", lost -> lostAt.set(System.nanoTime()))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS));

      Object holding = a.holding("s2"); // what A's workers of the shard captured
      assertTrue(a.mayAct(holding));

      // As the other members do when A is removed: its fence lease cannot be renewed any more.
      UniqueAddress self = Cluster.get(nodeA.system()).selfMember().uniqueAddress();
      new FenceStore(db.storage(), Namespaces.DEFAULT, 5)
          .revoke(self.address() + "#" + self.longUid());

      CompletableFuture<Boolean> successor = b.acquire("s2", lost -> {}).toCompletableFuture();
      assertTrue(successor.get(15, TimeUnit.SECONDS), "the successor gets the shard");
      long takenAt = System.nanoTime();
      assertTrue(lostAt.get() != 0, "the removed node was told it lost the shard");
      assertTrue(takenAt - lostAt.get() > 0, "before the successor took it");
      assertFalse(a.holds("s2"), "the removed node does not act on it");
      assertTrue(b.holds("s2"));
      // A registers its next generation and works again for shards nobody holds.
      assertTrue(a.acquire("s3", lost -> {}).toCompletableFuture().get(10, TimeUnit.SECONDS));
      Eventually.awaitAssert(
          Duration.ofSeconds(5), "A trusts again", () -> assertTrue(a.trusted()));
      assertFalse(
          a.mayAct(holding), "but the old shard's workers never act again, under any generation");
      assertTrue(a.mayAct(a.holding("s3")), "the new shard's workers do");
    }
  }

  @Test
  void aNodeThatLeavesRevokesNobodysLeaseAndTheOthersKeepTheirShards() throws Exception {
    try (TestDatabases.TestDatabase db = TestDatabases.freshH2();
        TestCluster cluster = TestCluster.start(2, config(db))) {
      TroupeNode nodeA = cluster.liveNodes().get(0);
      FleetFence a = FleetFence.get(nodeA.system());
      FleetFence.get(cluster.liveNodes().get(1).system()); // B watches removals too
      AtomicLong lost = new AtomicLong();
      assertTrue(
          a.acquire("s4", reason -> lost.incrementAndGet())
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS));

      // When B's cluster shuts down, Pekko publishes every other member to B as removed; B must
      // not take that for A's removal.
      cluster.leave(1);
      UniqueAddress self = Cluster.get(nodeA.system()).selfMember().uniqueAddress();
      try (Connection c = db.storage().dataSource().getConnection();
          PreparedStatement revoked =
              c.prepareStatement(
                  "SELECT COUNT(*) FROM troupe_fleet_node WHERE node = ? AND revoked = TRUE")) {
        revoked.setString(1, self.address() + "#" + self.longUid());
        try (ResultSet rs = revoked.executeQuery()) {
          assertTrue(rs.next());
          assertEquals(0, rs.getInt(1), "A's fence lease was not revoked by the leaving node");
        }
      }
      assertTrue(a.holds("s4"), "A still holds its shard");
      assertEquals(0, lost.get(), "and never lost it");
    }
  }

  @Test
  void withTheFenceOffEveryShardLeaseIsGrantedAndWorkersAlwaysAct() throws Exception {
    try (TestCluster cluster =
        TestCluster.start(1, "troupe.sharding.fleet.single-writer.enabled = off")) {
      FleetFence fence = FleetFence.get(cluster.liveNodes().get(0).system());
      assertTrue(fence.trusted());
      assertTrue(fence.acquire("s", lost -> {}).toCompletableFuture().get(1, TimeUnit.SECONDS));
    }
  }
}
