package dev.troupe.daemons;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.lock.StaleTokenException;
import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Daemons under real crashes and pauses of node JVMs, with a witness log across processes. */
final class DaemonsProcessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final int DAEMONS = 20;

  /** One instance's life: start and (if seen) stop, wall-clock millis; on which node. */
  private record Life(String name, long epoch, String node, long start, long stop) {}

  /** Every instance the witness logs of {@code nodes} show; a killed node's end at {@code dead}. */
  private static List<Life> lives(List<NodeProcess> nodes, Map<String, Long> deadAt) {
    List<Life> lives = new ArrayList<>();
    for (NodeProcess node : nodes) {
      Map<String, long[]> open = new HashMap<>();
      for (String line : node.lines()) {
        if (!line.startsWith("TROUPE-DAEMON ")) {
          continue;
        }
        String[] f = line.split(" ");
        String key = f[2] + " " + f[3];
        long at = Long.parseLong(f[4]);
        if (f[1].equals("start")) {
          open.put(key, new long[] {Long.parseLong(f[3]), at});
        } else {
          long[] started = open.remove(key);
          if (started != null) {
            lives.add(new Life(f[2], started[0], node.name(), started[1], at));
          }
        }
      }
      long end = deadAt.getOrDefault(node.name(), Long.MAX_VALUE);
      open.forEach(
          (key, started) ->
              lives.add(new Life(key.split(" ")[0], started[0], node.name(), started[1], end)));
    }
    return lives;
  }

  /** The most instances of one name alive at once, over all names, ignoring a window. */
  private static int maxOverlap(List<Life> lives, String name) {
    List<long[]> edges = new ArrayList<>();
    for (Life life : lives) {
      if (life.name().equals(name)) {
        edges.add(new long[] {life.start(), 1});
        edges.add(new long[] {life.stop(), -1});
      }
    }
    edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    int now = 0;
    int max = 0;
    for (long[] edge : edges) {
      now += edge[1];
      max = Math.max(max, now);
    }
    return max;
  }

  /** Milliseconds from {@code killedAt} until the first instance of {@code name} started after. */
  private static long backAfter(List<Life> lives, String name, long killedAt) {
    return lives.stream()
            .filter(l -> l.name().equals(name) && l.start() >= killedAt)
            .mapToLong(Life::start)
            .min()
            .orElseThrow()
        - killedAt;
  }

  private static Set<String> runningOn(NodeProcess node) {
    Set<String> running = new HashSet<>();
    for (Life life : lives(List.of(node), Map.of())) {
      if (life.stop() == Long.MAX_VALUE) {
        running.add(life.name());
      }
    }
    return running;
  }

  private static ProcessCluster start(TestDatabases.TestDatabase db) {
    return start(db, "");
  }

  private static ProcessCluster start(TestDatabases.TestDatabase db, String extraConfig) {
    String config =
        "troupe.storage.url = \""
            + db.url()
            + "\"\ntroupe.lock.namespace = \"pd-"
            + UUID.randomUUID()
            + "\"\ntroupe.daemons.rescan-interval = 5s";
    ProcessCluster cluster =
        ProcessCluster.builder()
            .size(3)
            .config(config)
            .nodeConfig(i -> extraConfig) // after the test timings, which it may override
            .mainClass(DaemonChildNode.class)
            .start();
    for (NodeProcess node : cluster.nodes()) {
      node.send("daemons " + DAEMONS);
      node.awaitLine(l -> l.equals("TROUPE-DAEMONS ready"), TIMEOUT);
    }
    Eventually.awaitAssert(
        TIMEOUT,
        "all daemons running once",
        () -> {
          int total = 0;
          for (NodeProcess node : cluster.nodes()) {
            total += runningOn(node).size();
          }
          assertEquals(DAEMONS, total);
        });
    return cluster;
  }

  private static void awaitAllRunningOn(List<NodeProcess> nodes) {
    Eventually.awaitAssert(
        TIMEOUT,
        "every daemon running on " + nodes,
        () -> {
          Set<String> running = new HashSet<>();
          int total = 0;
          for (NodeProcess node : nodes) {
            Set<String> here = runningOn(node);
            running.addAll(here);
            total += here.size();
          }
          assertEquals(DAEMONS, running.size(), "names running: " + running);
          assertEquals(DAEMONS, total, "instances running");
        });
  }

  @Test
  void theDaemonsOfASigkilledNodeRunAgainElsewhereAndNeverTwice() {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster = start(db)) {
      NodeProcess victim = cluster.node(2); // not the leader: the oldest node leads
      Set<String> lost = runningOn(victim);
      victim.kill();
      long killedAt = System.currentTimeMillis();
      awaitAllRunningOn(List.of(cluster.node(0), cluster.node(1)));
      List<Life> lives = lives(cluster.nodes(), Map.of(victim.name(), killedAt));
      for (int i = 0; i < DAEMONS; i++) {
        assertEquals(1, maxOverlap(lives, "pd-" + i), "instances of pd-" + i + " at once");
      }
      for (String name : lost) {
        long back = backAfter(lives, name, killedAt);
        // FAULTS.md D1: recovered <= 25 s.
        assertTrue(back <= 25_000, name + " back after " + back + " ms");
      }
    }
  }

  @Test
  void theLeadersNodesDaemonsAreTakenOverBeforeItIsDownedAndTheNewLeaderAdoptsEverything() {
    // The Split Brain Resolver downs the killed node only 20 s after it became unreachable: a new
    // leader cannot exist before ~22 s, so daemons back sooner were taken over by the hosts from
    // the lease table (issue 17 item 2), not placed by a leader.
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster =
            start(db, "pekko.cluster.split-brain-resolver.stable-after = 20s\n")) {
      NodeProcess leader = cluster.node(0); // the oldest node hosts the leader singleton
      Set<String> lost = runningOn(leader);
      Map<String, Integer> startsBefore = new HashMap<>();
      for (NodeProcess node : List.of(cluster.node(1), cluster.node(2))) {
        for (String name : runningOn(node)) {
          startsBefore.put(name, starts(cluster, name));
        }
      }
      leader.kill();
      long killedAt = System.currentTimeMillis();
      awaitAllRunningOn(List.of(cluster.node(1), cluster.node(2)));
      List<Life> lives = lives(cluster.nodes(), Map.of(leader.name(), killedAt));
      for (String name : lost) {
        long back = backAfter(lives, name, killedAt);
        // Unreachable after ~2.5 s (test failure detector), then the lease (5 s from the last
        // renewal): about 5 s; a leader could place them only after ~22 s.
        assertTrue(back <= 12_000, name + " back after " + back + " ms");
      }
      Map<String, Integer> startsAfterTakeover = new HashMap<>();
      for (int i = 0; i < DAEMONS; i++) {
        startsAfterTakeover.put("pd-" + i, starts(cluster, "pd-" + i));
      }
      // The new leader (after the downing) adopts what runs: it answers with every daemon, and
      // none is started again - neither the untouched ones nor the taken-over ones.
      NodeProcess asker = cluster.node(1);
      Eventually.awaitAssert(
          TIMEOUT,
          "the new leader knows every daemon",
          () -> {
            int from = asker.lineCount();
            asker.send("running");
            String line =
                asker.awaitLineAfter(
                    from, l -> l.startsWith("TROUPE-RUNNING "), Duration.ofSeconds(15));
            assertEquals("TROUPE-RUNNING " + DAEMONS, line);
          });
      for (Map.Entry<String, Integer> e : startsBefore.entrySet()) {
        assertEquals(
            e.getValue(), starts(cluster, e.getKey()), e.getKey() + " was restarted: not adopted");
      }
      for (Map.Entry<String, Integer> e : startsAfterTakeover.entrySet()) {
        assertEquals(
            e.getValue(),
            starts(cluster, e.getKey()),
            e.getKey() + " was started again by the new leader: the take-over was not adopted");
      }
      lives = lives(cluster.nodes(), Map.of(leader.name(), killedAt));
      for (int i = 0; i < DAEMONS; i++) {
        assertEquals(1, maxOverlap(lives, "pd-" + i), "instances of pd-" + i + " at once");
      }
    }
  }

  private static int starts(ProcessCluster cluster, String name) {
    int starts = 0;
    for (NodeProcess node : cluster.nodes()) {
      for (String line : node.lines()) {
        if (line.startsWith("TROUPE-DAEMON start " + name + " ")) {
          starts++;
        }
      }
    }
    return starts;
  }

  @Test
  void aPausedNodesDaemonsAreFencedAndReplacedAndItsInstancesDieWhenItResumes() throws Exception {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres()) {
      String namespace = "pd-" + UUID.randomUUID();
      String config =
          "troupe.storage.url = \""
              + db.url()
              + "\"\ntroupe.lock.namespace = \""
              + namespace
              + "\"\ntroupe.daemons.rescan-interval = 5s";
      try (ProcessCluster cluster =
          ProcessCluster.builder()
              .size(3)
              .config(config)
              .mainClass(DaemonChildNode.class)
              .start()) {
        for (NodeProcess node : cluster.nodes()) {
          node.send("daemons " + DAEMONS);
          node.awaitLine(l -> l.equals("TROUPE-DAEMONS ready"), TIMEOUT);
        }
        NodeProcess paused = cluster.node(2);
        Eventually.awaitAssert(
            TIMEOUT, "daemons on node 2", () -> assertTrue(runningOn(paused).size() > 0));
        awaitAllRunningOn(cluster.nodes());
        Map<String, Long> oldEpochs = new HashMap<>();
        for (Life life : lives(List.of(paused), Map.of())) {
          if (life.stop() == Long.MAX_VALUE) {
            oldEpochs.put(life.name(), life.epoch());
          }
        }
        long pausedAt = System.currentTimeMillis();
        paused.pause();
        awaitAllRunningOn(List.of(cluster.node(0), cluster.node(1)));
        // At most one live instance: a successor starts only once the paused node's lease has
        // expired - at the earliest lease-duration (5 s) after its last renewal, which was at most
        // lease-renew-interval (1 s) before the pause - not as soon as the node is unreachable.
        long firstSuccessor =
            lives(List.of(cluster.node(0), cluster.node(1)), Map.of()).stream()
                .filter(l -> oldEpochs.containsKey(l.name()) && l.start() >= pausedAt)
                .mapToLong(Life::start)
                .min()
                .orElseThrow();
        System.out.println(
            "DaemonsProcessIT: first successor " + (firstSuccessor - pausedAt) + " ms after STOP");
        assertTrue(
            firstSuccessor - pausedAt >= 3_900,
            "a successor started " + (firstSuccessor - pausedAt) + " ms after the pause");
        // Every old instance is fenced: a write with its epoch is refused.
        try (Connection c = db.storage().dataSource().getConnection()) {
          c.setAutoCommit(false);
          for (Map.Entry<String, Long> old : oldEpochs.entrySet()) {
            assertThrows(
                StaleTokenException.class,
                () ->
                    JdbcLockRegistry.requireCurrentToken(
                        c, namespace, "daemon:" + old.getKey(), old.getValue()),
                old.getKey());
          }
          c.rollback();
        }
        // Keep it paused until the others have downed and removed it (30 s in the words;
        // here until the removal, which takes the failure detector plus SBR's stable-after).
        cluster
            .node(0)
            .awaitLine(l -> l.equals("TROUPE-EVENT REMOVED " + paused.address()), TIMEOUT);
        paused.resume();
        long resumedAt = System.currentTimeMillis();
        paused.awaitExit(TIMEOUT); // downed while paused: it learns it and exits
        long window = System.currentTimeMillis() - resumedAt;
        // FAULTS.md M2: the resumed node's process (and with it its instances) gone <= 5 s after
        // CONT.
        assertTrue(window <= 5_000, "the paused node's instances lived on " + window + " ms");
      }
    }
  }

  @Test
  void aShortPauseThatDoesNotDownTheNodeEndsWithItsStaleInstancesStopped() {
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres()) {
      String config =
          "troupe.storage.url = \""
              + db.url()
              + "\"\ntroupe.lock.namespace = \"pd-"
              + UUID.randomUUID()
              + "\"\ntroupe.daemons.rescan-interval = 5s"
              + "\npekko.cluster.split-brain-resolver.stable-after = 30s";
      try (ProcessCluster cluster =
          ProcessCluster.builder()
              .size(3)
              .config(config)
              .mainClass(DaemonChildNode.class)
              .start()) {
        for (NodeProcess node : cluster.nodes()) {
          node.send("daemons " + DAEMONS);
          node.awaitLine(l -> l.equals("TROUPE-DAEMONS ready"), TIMEOUT);
        }
        NodeProcess paused = cluster.node(2);
        Eventually.awaitAssert(
            TIMEOUT, "daemons on node 2", () -> assertTrue(runningOn(paused).size() > 0));
        awaitAllRunningOn(cluster.nodes());
        Set<String> stale = new HashSet<>();
        for (Life life : lives(List.of(paused), Map.of())) {
          if (life.stop() == Long.MAX_VALUE) {
            stale.add(life.name() + " " + life.epoch());
          }
        }
        paused.pause();
        // Re-placed as soon as node 2 is unreachable, long before it could be downed.
        awaitAllRunningOn(List.of(cluster.node(0), cluster.node(1)));
        paused.resume();
        long resumedAt = System.currentTimeMillis();
        // Reachable again: the leader finds the stale instances (lower epochs) and stops them;
        // node 2 may run daemons again, but only with new epochs.
        Eventually.awaitAssert(
            TIMEOUT,
            "the stale instances on node 2 stopped",
            () -> {
              for (Life life : lives(List.of(paused), Map.of())) {
                assertTrue(
                    life.stop() != Long.MAX_VALUE
                        || !stale.contains(life.name() + " " + life.epoch()),
                    "stale instance still running: " + life);
              }
            });
        long lastStale =
            lives(List.of(paused), Map.of()).stream()
                .filter(l -> stale.contains(l.name() + " " + l.epoch()))
                .mapToLong(Life::stop)
                .max()
                .orElseThrow();
        System.out.println(
            "DaemonsProcessIT: stale instances gone " + (lastStale - resumedAt) + " ms after CONT");
        // FAULTS.md (issue 17): a paused node's instances are gone <= 5 s after it resumes.
        assertTrue(
            lastStale - resumedAt <= 5_000,
            "the last stale instance stopped " + (lastStale - resumedAt) + " ms after CONT");
        awaitAllRunningOn(cluster.nodes());
        assertTrue(paused.isAlive(), "a short pause does not down the node");
      }
    }
  }
}
