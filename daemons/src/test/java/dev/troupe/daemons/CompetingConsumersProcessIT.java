package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** LeaderOnly and OnceLog when node JVMs are SIGKILLed. */
final class CompetingConsumersProcessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static ProcessCluster start(TestDatabases.TestDatabase db) {
    String config =
        "troupe.storage.url = \""
            + db.url()
            + "\"\ntroupe.lock.namespace = \"cc-"
            + UUID.randomUUID()
            + "\"";
    return ProcessCluster.builder().size(3).config(config).mainClass(DaemonChildNode.class).start();
  }

  @Test
  void whenTheLeadersNodeIsKilledAnotherNodeLeadsWithALargerToken() {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster = start(db)) {
      for (NodeProcess node : cluster.nodes()) {
        node.send("leader-only projection");
      }
      Map<NodeProcess, Long> leading = awaitLeaders(cluster, 1);
      NodeProcess leader = leading.keySet().iterator().next();
      long token = leading.get(leader);

      leader.kill();
      Map<NodeProcess, Long> after = awaitLeaders(cluster, 2);
      after.remove(leader);
      assertEquals(1, after.size(), "exactly one other node leads: " + after);
      long newToken = after.values().iterator().next();
      assertTrue(newToken > token, token + " then " + newToken);
    }
  }

  /** Waits until {@code count} LEADING lines have been printed in all; node to its last token. */
  private static Map<NodeProcess, Long> awaitLeaders(ProcessCluster cluster, int count) {
    Map<NodeProcess, Long> leading = new HashMap<>();
    dev.troupe.testkit.Eventually.awaitAssert(
        TIMEOUT,
        count + " leadership(s)",
        () -> {
          leading.clear();
          int lines = 0;
          for (NodeProcess node : cluster.nodes()) {
            for (String line : node.lines()) {
              if (line.startsWith("TROUPE-LEADING projection ")) {
                lines++;
                leading.put(node, Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
              }
            }
          }
          assertEquals(count, lines, "leaderships so far: " + leading);
        });
    return leading;
  }

  @Test
  void onceLogNeverRunsAnItemTwiceWhileNodesAreKilled() {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster = start(db)) {
      // Three nodes race through the same 1000 items; one is killed half-way.
      for (NodeProcess node : cluster.nodes()) {
        node.send("once 0 999");
      }
      NodeProcess victim = cluster.node(1);
      victim.awaitLine(l -> l.startsWith("TROUPE-RAN "), TIMEOUT);
      victim.kill();
      for (NodeProcess node : cluster.nodes()) {
        if (node != victim) {
          node.awaitLine(l -> l.equals("TROUPE-ONCE-DONE"), Duration.ofMinutes(3));
        }
      }
      Map<String, Integer> runs = new HashMap<>();
      for (NodeProcess node : cluster.nodes()) {
        for (String line : node.lines()) {
          if (line.startsWith("TROUPE-RAN ")) {
            runs.merge(line.substring("TROUPE-RAN ".length()), 1, Integer::sum);
          }
        }
      }
      runs.forEach((item, count) -> assertEquals(1, count, item + " ran " + count + " times"));
      // Every item ran once, except at most the one the victim was running when it was killed
      // (left "running" under the default policy, for an operator).
      assertTrue(runs.size() >= 999, "items that ran: " + runs.size());
    }
  }
}
