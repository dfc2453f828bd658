package dev.troupe.cron;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.troupe.testkit.Eventually;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import dev.troupe.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The once-per-instant guarantee under real faults: three node JVMs, ten jobs firing every second,
 * while the scheduler's node is SIGKILLed, SIGSTOPped until it is downed, and stopped gracefully,
 * in turn. Every delivery is counted from the witness log the targets print; every instant without
 * a delivery must be in the scheduler's history.
 */
final class CronProcessIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final int JOBS = 10;

  /** A delivery the witness printed. */
  private record Tick(String job, long scheduledAt, long receivedAt, long token) {}

  /** A fault, when it happened and when ticks with a new token came again. */
  private record Fault(String what, long at, long resumedAt) {
    long failover() {
      return resumedAt - at;
    }
  }

  private static String config(String url) {
    StringJoiner jobs = new StringJoiner(", ", "troupe.cron.jobs = [", "]");
    for (int i = 0; i < JOBS; i++) {
      jobs.add(
          "{ name = \"witness-"
              + i
              + "\", spec = \"* * * * * *\", target-group = cron-witness,"
              + " misfire = fire-once, catch-up-window = 1m }");
    }
    return "troupe.storage.url = \""
        + url
        + "\"\ntroupe.lock.namespace = \"cron-"
        + UUID.randomUUID()
        + "\"\ntroupe.lock { heartbeat-interval = 1s, heartbeat-timeout = 1s,"
        + " lease-duration = 4s }\n"
        + jobs;
  }

  private static List<Tick> ticks(List<NodeProcess> nodes) {
    List<Tick> ticks = new ArrayList<>();
    for (NodeProcess node : nodes) {
      for (String line : node.lines()) {
        if (line.startsWith("TROUPE-TICK ")) {
          String[] f = line.split(" ");
          ticks.add(
              new Tick(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4])));
        }
      }
    }
    return ticks;
  }

  private static long maxToken(List<NodeProcess> nodes) {
    return ticks(nodes).stream().mapToLong(Tick::token).max().orElse(0);
  }

  private static void startCron(NodeProcess node) {
    node.send("cron");
    node.awaitLine(l -> l.equals("TROUPE-CRON ready"), TIMEOUT);
  }

  private static long firstTickAbove(ProcessCluster cluster, long token) {
    return ticks(cluster.nodes()).stream()
        .filter(t -> t.token() > token)
        .mapToLong(Tick::receivedAt)
        .min()
        .orElse(-1);
  }

  /** Waits for a tick from a scheduler with a token above {@code before}; returns its time. */
  private static long awaitNewScheduler(ProcessCluster cluster, long before) {
    Eventually.awaitCondition(
        TIMEOUT, "a tick from a new scheduler", () -> firstTickAbove(cluster, before) > 0);
    return firstTickAbove(cluster, before);
  }

  /** Waits until the jobs were delivered {@code n} more times each (on average). */
  private static void awaitMoreTicks(ProcessCluster cluster, int n) {
    int start = ticks(cluster.nodes()).size();
    Eventually.awaitCondition(
        TIMEOUT,
        n + " more ticks per job",
        () -> ticks(cluster.nodes()).size() >= start + n * JOBS);
  }

  @Test
  void tenJobsFireOncePerInstantWhileTheSchedulerNodeIsKilledPausedAndStopped() throws Exception {
    List<Fault> faults = new ArrayList<>();
    List<Tick> ticks;
    long begin;
    long end;
    try (TestDatabases.TestDatabase db = TestDatabases.freshPostgres();
        ProcessCluster cluster =
            ProcessCluster.builder()
                .size(3)
                .config(config(db.url()))
                .mainClass(CronChildNode.class)
                .start()) {
      cluster.nodes().forEach(CronProcessIT::startCron);
      awaitMoreTicks(cluster, 3);
      begin = System.currentTimeMillis();
      awaitMoreTicks(cluster, 5);

      // 1. SIGKILL the scheduler's node: the oldest node hosts the singleton.
      NodeProcess victim = cluster.aliveNodes().get(0);
      long tokenBefore = maxToken(cluster.nodes());
      long at = System.currentTimeMillis();
      victim.kill();
      faults.add(new Fault("SIGKILL", at, awaitNewScheduler(cluster, tokenBefore)));
      startCron(cluster.addNode());
      awaitMoreTicks(cluster, 5);

      // 2. SIGSTOP the scheduler's node until the others have downed and removed it.
      victim = cluster.aliveNodes().get(0);
      NodeProcess observer = cluster.aliveNodes().get(1);
      tokenBefore = maxToken(cluster.nodes());
      at = System.currentTimeMillis();
      victim.pause();
      long resumed = awaitNewScheduler(cluster, tokenBefore);
      faults.add(new Fault("SIGSTOP", at, resumed));
      String removed = "TROUPE-EVENT REMOVED " + victim.address();
      observer.awaitLine(l -> l.equals(removed), TIMEOUT);
      victim.resume();
      victim.awaitExit(TIMEOUT); // downed while it was stopped: it learns that and exits
      startCron(cluster.addNode());
      awaitMoreTicks(cluster, 5);

      // 3. Stop the scheduler's node gracefully (SIGTERM: CoordinatedShutdown hands over).
      victim = cluster.aliveNodes().get(0);
      tokenBefore = maxToken(cluster.nodes());
      at = System.currentTimeMillis();
      victim.terminate();
      faults.add(new Fault("SIGTERM", at, awaitNewScheduler(cluster, tokenBefore)));
      victim.awaitExit(TIMEOUT);
      awaitMoreTicks(cluster, 5);
      end = System.currentTimeMillis();
      ticks = ticks(cluster.nodes());

      // Every instant of every job in [begin, end - 3 s] fired exactly once or is in the history.
      Map<String, Integer> deliveries = new HashMap<>();
      for (Tick t : ticks) {
        deliveries.merge(t.job() + "@" + t.scheduledAt(), 1, Integer::sum);
      }
      List<String> duplicates =
          deliveries.entrySet().stream()
              .filter(e -> e.getValue() > 1)
              .map(Map.Entry::getKey)
              .toList();
      assertEquals(List.of(), duplicates, "instants delivered more than once");

      Set<String> recorded = recorded(db);
      List<String> unrecordedMisses = new ArrayList<>();
      int missedButRecorded = 0;
      long first = (begin / 1000 + 1) * 1000;
      long last = ((end - 3000) / 1000) * 1000;
      for (int j = 0; j < JOBS; j++) {
        for (long instant = first; instant <= last; instant += 1000) {
          String key = "witness-" + j + "@" + instant;
          if (!deliveries.containsKey(key)) {
            if (recorded.contains(key)) {
              missedButRecorded++;
            } else {
              unrecordedMisses.add(key);
            }
          }
        }
      }
      assertEquals(List.of(), unrecordedMisses, "instants neither delivered nor recorded");

      long maxFailover = faults.stream().mapToLong(Fault::failover).max().orElseThrow();
      long maxLateness =
          ticks.stream()
              .filter(t -> t.scheduledAt() >= first)
              .mapToLong(t -> t.receivedAt() - t.scheduledAt())
              .max()
              .orElseThrow();
      System.out.printf(
          "cron under faults: %d deliveries, %d recorded misses, faults %s, max lateness %d ms%n",
          ticks.size(), missedButRecorded, faults, maxLateness);
      assertTrue(
          maxLateness <= maxFailover + 1000,
          "max lateness " + maxLateness + " ms > failover " + maxFailover + " ms + 1 s");
      for (Fault f : faults) {
        assertTrue(f.failover() < 60_000, f + " took too long");
      }
    }
  }

  /** The (job, instant) keys of every row of the run history. */
  private static Set<String> recorded(TestDatabases.TestDatabase db) throws Exception {
    Set<String> keys = new HashSet<>();
    try (Connection c = db.storage().dataSource().getConnection();
        PreparedStatement s = c.prepareStatement("SELECT job, scheduled_at FROM troupe_cron_run");
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        keys.add(rs.getString(1) + "@" + rs.getLong(2));
      }
    }
    return keys;
  }
}
