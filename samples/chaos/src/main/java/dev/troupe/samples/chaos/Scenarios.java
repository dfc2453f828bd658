package dev.troupe.samples.chaos;

import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * The fault scenarios of FAULTS.md that run on loopback without root (topology L). Each starts its
 * own cluster and database, applies its faults, lets the workload run on, and returns what it
 * measured plus the offline checker's verdict.
 */
final class Scenarios {
  /** Options shared by the scenarios. */
  record Options(long seed, int rounds, Duration pause, Duration partition) {}

  static final Map<String, Function<Options, Outcome>> ALL = new LinkedHashMap<>();

  static {
    ALL.put("kill-oldest", o -> killOldest());
    ALL.put("term-oldest", o -> termOldest());
    ALL.put("stop-oldest", Scenarios::stopOldest);
    ALL.put("pg-restart", o -> pgRestart());
    ALL.put("pg-outage", Scenarios::pgOutage);
    ALL.put("random-failovers", Scenarios::randomFailovers);
    ALL.put("rolling-restart", Scenarios::rollingRestart);
    ALL.put("partition-oldest", Scenarios::partitionOldest);
    ALL.put("asymmetric", Scenarios::asymmetric);
  }

  /** The root tier: network namespaces. */
  static final List<String> TIER_C = List.of("partition-oldest", "asymmetric");

  static final List<String> TIER_A =
      List.of("kill-oldest", "term-oldest", "stop-oldest", "pg-restart");
  static final List<String> TIER_B =
      List.of(
          "kill-oldest",
          "term-oldest",
          "stop-oldest",
          "pg-restart",
          "pg-outage",
          "random-failovers",
          "rolling-restart");

  private Scenarios() {}

  /** M1 + D1 + W1: SIGKILL the oldest of 3 (the host of the daemon leader and cron scheduler). */
  static Outcome killOldest() {
    try (ChaosRun run = ChaosRun.start("kill-oldest", 3)) {
      List<NodeProcess> nodes = run.cluster.aliveNodes();
      long t0 = run.fault("kill", nodes.get(0));
      long removed = run.awaitMembers(nodes.subList(1, 3));
      long whole = run.awaitRecovered(t0, nodes.get(0).name());
      run.awaitTicks(5);
      return new Outcome(
          "kill-oldest",
          "SIGKILL the oldest of 3",
          List.of(
              Outcome.seconds("survivors see it removed", removed - t0, 15),
              Outcome.seconds("every daemon and cron job back", whole - t0, 25)),
          run.check(),
          run.dir.toString());
    }
  }

  /** M7: SIGTERM (graceful leave) the oldest of 3. */
  static Outcome termOldest() {
    try (ChaosRun run = ChaosRun.start("term-oldest", 3)) {
      List<NodeProcess> nodes = run.cluster.aliveNodes();
      long t0 = run.fault("term", nodes.get(0));
      nodes.get(0).awaitExit(ChaosRun.TIMEOUT);
      long exited = System.currentTimeMillis();
      long removed = run.awaitMembers(nodes.subList(1, 3));
      long whole = run.awaitRecovered(t0, nodes.get(0).name());
      run.awaitTicks(5);
      Checker.Result check = run.check();
      return new Outcome(
          "term-oldest",
          "SIGTERM (graceful leave) the oldest of 3",
          List.of(
              Outcome.seconds("the node has left and exited", exited - t0, 0),
              Outcome.seconds("survivors see it removed", removed - t0, 0),
              Outcome.seconds("every daemon and cron job back", whole - t0, 0),
              Outcome.seconds("longest daemon gap (hand-over)", check.maxDaemonGapMillis(), 5),
              Outcome.seconds("longest cron gap (hand-over)", check.maxCronGapMillis(), 5)),
          check,
          run.dir.toString());
    }
  }

  /** M2 + D2: SIGSTOP the oldest for 30 s, then SIGCONT: it must down itself and exit. */
  static Outcome stopOldest(Options options) {
    try (ChaosRun run = ChaosRun.start("stop-oldest", 3)) {
      List<NodeProcess> nodes = run.cluster.aliveNodes();
      NodeProcess paused = nodes.get(0);
      long t0 = run.fault("stop", paused);
      long removed = run.awaitMembers(nodes.subList(1, 3));
      long whole = run.awaitRecovered(t0, nodes.get(0).name());
      long resumeAt = t0 + options.pause().toMillis();
      while (System.currentTimeMillis() < resumeAt) { // the fault lasts this long
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(resumeAt - System.currentTimeMillis()));
      }
      long t1 = run.fault("cont", paused);
      paused.awaitExit(ChaosRun.TIMEOUT);
      long exited = System.currentTimeMillis();
      run.awaitTicks(5);
      return new Outcome(
          "stop-oldest",
          "SIGSTOP the oldest of 3 for " + options.pause().toSeconds() + " s, then SIGCONT",
          List.of(
              Outcome.seconds("survivors see it removed", removed - t0, 15),
              Outcome.seconds("every daemon and cron job back", whole - t0, 25),
              Outcome.seconds("resumed node gone after SIGCONT", exited - t1, 5)),
          run.check(),
          run.dir.toString());
    }
  }

  /** W/L/D4: PostgreSQL restarted (fast mode) under load. */
  static Outcome pgRestart() {
    try (ChaosRun run = ChaosRun.start("pg-restart", 3)) {
      if (!run.database.postgres()) {
        return skipped(
            "pg-restart",
            "PostgreSQL restart",
            "the run is on H2: PostgreSQL is not reachable",
            run);
      }
      List<String> restart = pgRestartCommand();
      if (restart.isEmpty()) {
        return skipped(
            "pg-restart", "PostgreSQL restart", "pg_ctlcluster is not available or not root", run);
      }
      long t0 = System.currentTimeMillis();
      run.driver("pg-restart", "postgresql", t0);
      exec(restart);
      long up = System.currentTimeMillis();
      run.driver("pg-up", "postgresql", up);
      long ack = run.awaitAck(up);
      long whole = run.awaitRecovered(up);
      run.awaitTicks(5);
      return new Outcome(
          "pg-restart",
          "PostgreSQL restarted (pg_ctlcluster restart, fast) under load",
          List.of(
              Outcome.seconds("database down and up again", up - t0, 0),
              Outcome.seconds("first acknowledged write after the database is up", ack - up, 5),
              Outcome.seconds("every daemon and cron job back after the database", whole - up, 0)),
          run.check(),
          run.dir.toString());
    }
  }

  /** C6 + W: PostgreSQL stopped for {@code options.pause()} (default 30 s) across fire times. */
  static Outcome pgOutage(Options options) {
    try (ChaosRun run = ChaosRun.start("pg-outage", 3)) {
      if (!run.database.postgres()) {
        return skipped(
            "pg-outage", "PostgreSQL outage", "the run is on H2: PostgreSQL is not reachable", run);
      }
      List<String> restart = pgRestartCommand();
      if (restart.isEmpty()) {
        return skipped(
            "pg-outage", "PostgreSQL outage", "pg_ctlcluster is not available or not root", run);
      }
      List<String> stop = new ArrayList<>(restart);
      stop.set(stop.size() - 1, "stop");
      List<String> start = new ArrayList<>(restart);
      start.set(start.size() - 1, "start");
      long t0 = System.currentTimeMillis();
      run.driver("pg-stop", "postgresql", t0);
      try {
        exec(stop);
        long startAt = t0 + options.pause().toMillis();
        while (System.currentTimeMillis() < startAt) { // the outage lasts this long
          LockSupport.parkNanos(
              TimeUnit.MILLISECONDS.toNanos(startAt - System.currentTimeMillis()));
        }
      } finally {
        exec(start);
      }
      long up = System.currentTimeMillis();
      run.driver("pg-start", "postgresql", up);
      long ack = run.awaitAck(up);
      long whole = run.awaitRecovered(up);
      run.awaitTicks(5);
      return new Outcome(
          "pg-outage",
          "PostgreSQL stopped for " + options.pause().toSeconds() + " s under load, then started",
          List.of(
              Outcome.seconds("first acknowledged write after the database is up", ack - up, 5),
              Outcome.seconds("every daemon and cron job back after the database", whole - up, 0)),
          run.check(),
          run.dir.toString());
    }
  }

  /** C1: random failovers (kill, term, stop 15 s) while 10 cron jobs fire every second. */
  static Outcome randomFailovers(Options options) {
    Random random = new Random(options.seed());
    try (ChaosRun run = ChaosRun.start("random-failovers", 3)) {
      long worstRecovery = 0;
      List<String> faults = new ArrayList<>();
      for (int round = 0; round < options.rounds(); round++) {
        List<NodeProcess> alive = run.cluster.aliveNodes();
        NodeProcess victim = alive.get(random.nextInt(alive.size()));
        String fault = List.of("kill", "term", "stop").get(random.nextInt(3));
        faults.add(fault + " " + victim.name());
        List<NodeProcess> survivors = new ArrayList<>(alive);
        survivors.remove(victim);
        long t0 = run.fault(fault, victim);
        run.awaitMembers(survivors);
        worstRecovery = Math.max(worstRecovery, run.awaitRecovered(t0, victim.name()) - t0);
        if (fault.equals("stop")) {
          run.fault("cont", victim);
        }
        if (!fault.equals("kill")) {
          victim.awaitExit(ChaosRun.TIMEOUT);
        }
        run.addNode();
        run.awaitTicks(3);
      }
      run.awaitTicks(5);
      return new Outcome(
          "random-failovers",
          options.rounds() + " random failovers, seed " + options.seed(),
          List.of(
              info("faults", String.join(", ", faults)),
              Outcome.seconds(
                  "worst time until every daemon and cron job was back", worstRecovery, 25)),
          run.check(),
          run.dir.toString());
    }
  }

  /** M8: rolling restart of all nodes, {@code rounds} times, under load. */
  static Outcome rollingRestart(Options options) {
    try (ChaosRun run = ChaosRun.start("rolling-restart", 3)) {
      long worstRejoin = 0;
      for (int round = 0; round < options.rounds(); round++) {
        for (NodeProcess node : run.cluster.aliveNodes()) {
          run.fault("term", node);
          node.awaitExit(ChaosRun.TIMEOUT);
          long start = System.currentTimeMillis();
          run.addNode();
          worstRejoin = Math.max(worstRejoin, System.currentTimeMillis() - start);
          run.awaitTicks(2);
        }
      }
      run.awaitTicks(5);
      Checker.Result check = run.check();
      return new Outcome(
          "rolling-restart",
          options.rounds() + " rolling restarts of 3 nodes (SIGTERM, then a new node)",
          List.of(
              Outcome.seconds(
                  "worst time for a new node to be Up with its workload", worstRejoin, 20),
              Outcome.seconds("longest daemon gap", check.maxDaemonGapMillis(), 5),
              Outcome.seconds("longest cron gap", check.maxCronGapMillis(), 5)),
          check,
          run.dir.toString());
    }
  }

  /**
   * M3 + R3: the oldest of 3 (daemon leader and cron scheduler host) is cut from the other two —
   * both still reach the database — for {@code options.partition()}; then the link heals and a node
   * starts again in the cut namespace. The minority must down itself and stop acting.
   */
  static Outcome partitionOldest(Options options) {
    if (!Netns.available()) {
      return withoutNamespaces("partition-oldest", "2+1 partition");
    }
    try (Netns netns = Netns.create(3);
        ChaosRun run = ChaosRun.start("partition-oldest", 3, netns)) {
      List<NodeProcess> nodes = run.cluster.aliveNodes();
      long t0 = System.currentTimeMillis();
      netns.cut(0, 1);
      netns.cut(0, 2);
      run.driver("partition", "{node-0} | {node-1, node-2}", t0);
      long removed = run.awaitMembers(nodes.subList(1, 3));
      nodes.get(0).awaitExit(ChaosRun.TIMEOUT);
      long minorityGone = System.currentTimeMillis();
      long whole = run.awaitRecovered(t0, nodes.get(0).name());
      long healAt = t0 + options.partition().toMillis();
      while (System.currentTimeMillis() < healAt) { // the partition lasts this long
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(healAt - System.currentTimeMillis()));
      }
      long t1 = System.currentTimeMillis();
      netns.heal();
      run.driver("heal", "all links", t1);
      long minorityActed = run.lastActionOf(nodes.get(0).name());
      run.addNode(); // in node-0's namespace again
      long converged = run.awaitRegistryConverged();
      run.awaitTicks(5);
      return new Outcome(
          "partition-oldest",
          "2+1 partition for "
              + options.partition().toSeconds()
              + " s: the oldest of 3 cut from the others (all still reach the database), then"
              + " healed",
          List.of(
              Outcome.seconds("majority sees the minority removed", removed - t0, 15),
              Outcome.seconds("minority downed itself and exited", minorityGone - t0, 0),
              Outcome.seconds(
                  "minority's last accepted write or received tick after the cut",
                  Math.max(0, minorityActed - t0),
                  0),
              Outcome.seconds("every daemon and cron job back on the majority", whole - t0, 25),
              Outcome.seconds(
                  "after the heal: a node restarted in the cut namespace is Up and every registry"
                      + " agrees",
                  converged - t1,
                  0)),
          run.check(),
          run.dir.toString());
    }
  }

  /**
   * M4: the youngest of 3 drops every packet from the oldest (iptables INPUT only); the middle node
   * still reaches both. The Split Brain Resolver must down the indirectly connected nodes rather
   * than let the cluster split.
   */
  static Outcome asymmetric(Options options) {
    if (!Netns.available()) {
      return withoutNamespaces("asymmetric", "one-way cut");
    }
    try (Netns netns = Netns.create(3)) {
      if (!netns.hasIptables()) {
        return new Outcome(
            "asymmetric", "one-way cut — SKIPPED: needs iptables", List.of(), null, "-");
      }
      try (ChaosRun run = ChaosRun.start("asymmetric", 3, netns)) {
        List<NodeProcess> nodes = run.cluster.aliveNodes();
        long t0 = System.currentTimeMillis();
        netns.dropInput(2, 0);
        run.driver("drop-input", "node-2 drops every packet from node-0", t0);
        // Pekko's SBR downs the indirectly connected nodes (0 and 2); node-1 keeps the cluster.
        long converged = run.awaitMembers(List.of(nodes.get(1)));
        List<String> exited = new ArrayList<>();
        for (NodeProcess node : List.of(nodes.get(0), nodes.get(2))) {
          node.awaitExit(ChaosRun.TIMEOUT);
          exited.add(node.name());
        }
        long gone = System.currentTimeMillis();
        long whole = run.awaitRecovered(t0, nodes.get(0).name(), nodes.get(2).name());
        netns.heal();
        run.awaitTicks(5);
        return new Outcome(
            "asymmetric",
            "one-way cut: node-2 drops every packet from node-0 (the oldest); node-1 reaches both",
            List.of(
                Outcome.seconds("the cluster converged on node-1 alone", converged - t0, 15),
                info("downed and exited", String.join(", ", exited)),
                Outcome.seconds("both indirectly connected nodes exited", gone - t0, 0),
                Outcome.seconds("every daemon and cron job back on node-1", whole - t0, 0)),
            run.check(),
            run.dir.toString());
      }
    }
  }

  /** The outcome of a namespace scenario where this process cannot build namespaces. */
  private static Outcome withoutNamespaces(String scenario, String fault) {
    return new Outcome(
        scenario,
        fault + " — SKIPPED: needs root and iproute2 (network namespaces)",
        List.of(),
        null,
        "-");
  }

  private static Outcome.Figure info(String metric, String value) {
    return Outcome.info(metric, value);
  }

  private static Outcome skipped(String name, String fault, String reason, ChaosRun run) {
    return new Outcome(name, fault + " — SKIPPED: " + reason, List.of(), null, run.dir.toString());
  }

  /** pg_ctlcluster restart of the local cluster, when this process may run it. */
  static List<String> pgRestartCommand() {
    Path conf = Path.of("/etc/postgresql");
    if (!Files.isDirectory(conf) || !"0".equals(exec(List.of("id", "-u")).trim())) {
      return List.of();
    }
    try (var versions = Files.list(conf)) {
      List<Path> list = versions.toList();
      if (list.size() != 1) {
        return List.of();
      }
      return List.of(
          "pg_ctlcluster",
          "--skip-systemctl-redirect",
          "--mode=fast",
          list.get(0).getFileName().toString(),
          "main",
          "restart");
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String exec(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(command + " cannot run: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
