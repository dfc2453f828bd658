package dev.troupe.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.troupe.core.TroupeNode;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

final class TestClusterIT {

  private static Set<Address> addresses(TestCluster cluster) {
    return cluster.liveNodes().stream().map(TroupeNode::address).collect(Collectors.toSet());
  }

  @Test
  void threeNodesFormAndSurviveAGracefulLeave() {
    try (TestCluster cluster = TestCluster.start(3)) {
      for (TroupeNode node : cluster.liveNodes()) {
        assertEquals(addresses(cluster), node.members(), "Up members seen by " + node.name());
      }
      Address leaving = cluster.node(1).address();
      cluster.leave(1);

      assertFalse(cluster.isLive(1));
      cluster.awaitConverged();
      for (TroupeNode node : cluster.liveNodes()) {
        assertEquals(2, node.members().size(), "members of " + node.name());
        assertFalse(node.members().contains(leaving));
      }
      // The cluster still takes new members after the leave.
      cluster.addNode();
      assertEquals(3, cluster.node(0).members().size());
    }
  }

  @Test
  void crashedNodeIsDownedAndRemovedByTheOthers() {
    try (TestCluster cluster = TestCluster.start(3)) {
      Address crashed = cluster.node(2).address();
      cluster.crash(2);
      cluster.awaitConverged();
      for (TroupeNode node : cluster.liveNodes()) {
        assertFalse(node.members().contains(crashed), node.name() + " still lists " + crashed);
        assertEquals(2, node.members().size());
      }
    }
  }
}
