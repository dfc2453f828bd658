package dev.troupe.samples.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.troupe.cron.MisfirePolicy;
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
    ALL.put("flaky-links", Scenarios::flakyLinks);
    ALL.put("db-cut", Scenarios::dbCut);
    ALL.put("dst-faketime", ClockScenario::run);
    ALL.put("cron-catch-up", Scenarios::cronCatchUp); // in no tier: ~10 minutes
  }

  /** The root tier: network namespaces. */
  static final List<String> TIER_C =
      List.of("partition-oldest", "asymmetric", "flaky-links", "db-cut");

  /** Tier A, in mvn verify: the 2+1 partition runs as root (CI) and is skipped otherwise. */
  static final List<String> TIER_A =
      List.of("kill-oldest", "term-oldest", "stop-oldest", "pg-restart", "partition-oldest");

  static final List<String> TIER_B =
      List.of(
          "kill-oldest",
          "term-oldest",
          "stop-oldest",
          "pg-restart",
          "pg-outage",
          "random-failovers",
          "rolling-restart",
          "dst-faketime");

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
      waitUntil(resumeAt); // the fault lasts this long
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
        waitUntil(startAt); // the outage lasts this long
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

  /**
   * Issue 19: {@code rounds} (default 20) SIGKILLs of the cron scheduler's node while the jobs
   * {@code c-0..c-9} fire every second under misfire CATCH_UP (catch-up window 60 s). Each round
   * kills the node whose scheduler the witness shows running, waits until the survivors removed it
   * and a successor took over, starts a replacement node and waits for the 3 to converge. After the
   * last round the jobs run on for 10 s; the nodes are stopped and the checker judges every
   * scheduled second of every job: delivered exactly once.
   */
  static Outcome cronCatchUp(Options options) {
    try (ChaosRun run = ChaosRun.start("cron-catch-up", 3, MisfirePolicy.CATCH_UP)) {
      long worstRemoved = 0;
      long worstTakeOver = 0;
      int onOldest = 0;
      List<String> victims = new ArrayList<>();
      List<String> takeOvers = new ArrayList<>();
      for (int round = 0; round < options.rounds(); round++) {
        JsonNode scheduler = run.awaitScheduler();
        String host = scheduler.get("node").asText();
        List<NodeProcess> alive = run.cluster.aliveNodes();
        NodeProcess victim =
            alive.stream().filter(n -> n.name().equals(host)).findFirst().orElseThrow();
        if (victim == alive.get(0)) {
          onOldest++;
        }
        victims.add(host + " (token " + scheduler.get("epoch").asLong() + ")");
        List<NodeProcess> survivors = new ArrayList<>(alive);
        survivors.remove(victim);
        long t0 = run.fault("kill", victim);
        worstRemoved = Math.max(worstRemoved, run.awaitMembers(survivors) - t0);
        long tookOver =
            run.awaitEvent(
                    "a new cron scheduler after the kill of " + host,
                    e ->
                        e.path("kind").asText().equals("scheduler_start")
                            && e.get("t").asLong() > t0
                            && !e.path("node").asText().equals(host))
                .get("t")
                .asLong();
        worstTakeOver = Math.max(worstTakeOver, tookOver - t0);
        takeOvers.add(String.format("%.1f", (tookOver - t0) / 1000.0));
        run.addNode();
        run.awaitRegistryConverged();
        run.awaitTicks(3);
      }
      run.awaitTicks(10); // the jobs run on after the last round
      run.stopNodes();
      return new Outcome(
          "cron-catch-up",
          options.rounds()
              + " SIGKILLs of the cron scheduler's node, 10 jobs every second under misfire"
              + " CATCH_UP (window "
              + ChaosNode.CATCH_UP_WINDOW.toSeconds()
              + " s), a replacement node after each",
          List.of(
              info("killed (scheduler's node and token)", String.join(", ", victims)),
              info(
                  "scheduler found on the oldest node",
                  onOldest + " of " + options.rounds() + " rounds"),
              Outcome.seconds("worst time until the survivors removed it", worstRemoved, 15),
              info("kill to a new scheduler's take-over, each round", takeOvers + " s"),
              Outcome.seconds(
                  "worst time from the kill to a new scheduler's take-over", worstTakeOver, 25)),
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
      waitUntil(healAt); // the partition lasts this long
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
        return withoutIptables("asymmetric", "one-way cut");
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

  /**
   * M5: every link between the 3 nodes loses 30 % of its packets for {@code options.partition()}
   * (default 60 s); the database link is spared. The Split Brain Resolver may down every node
   * (down-all when unstable), but two clusters must never live at once. When the loss ends, the
   * harness acts as the supervisor: it replaces every node that exited.
   */
  static Outcome flakyLinks(Options options) {
    if (!Netns.available()) {
      return withoutNamespaces("flaky-links", "flaky links");
    }
    try (Netns netns = Netns.create(3)) {
      if (!netns.hasIptables()) {
        return withoutIptables("flaky-links", "flaky links");
      }
      try (ChaosRun run = ChaosRun.start("flaky-links", 3, netns)) {
        List<NodeProcess> nodes = run.cluster.aliveNodes();
        long t0 = System.currentTimeMillis();
        netns.lossy(0.3);
        run.driver("loss", "30 % of the packets between nodes dropped", t0);
        SplitWatch split = new SplitWatch();
        long healAt = t0 + options.partition().toMillis();
        while (System.currentTimeMillis() < healAt) { // the loss lasts this long
          split.sample(run);
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(250));
        }
        long t1 = System.currentTimeMillis();
        netns.heal();
        run.driver("heal", "all links", t1);
        List<String> exited = new ArrayList<>();
        for (NodeProcess node : nodes) {
          if (!node.isAlive()) {
            exited.add(node.name());
          }
        }
        run.awaitSettled();
        split.sample(run);
        while (run.cluster.aliveNodes().size() < 3) { // the supervisor
          run.addNode();
          split.sample(run);
        }
        long whole = run.awaitRecovered(t1);
        long converged = run.awaitRegistryConverged();
        run.awaitTicks(5);
        split.sample(run);
        return new Outcome(
            "flaky-links",
            "30 % packet loss on every link between the 3 nodes for "
                + options.partition().toSeconds()
                + " s, then healed; exited nodes replaced",
            List.of(
                info(
                    "nodes that downed themselves and exited during the loss",
                    exited.isEmpty() ? "none" : String.join(", ", exited)),
                new Outcome.Figure(
                    "samples (every 250 ms) showing two live clusters at once",
                    split.splits + " of " + split.samples + split.first,
                    "0",
                    split.splits == 0),
                Outcome.seconds(
                    "cluster whole again after the loss (3 nodes, every daemon and job)",
                    Math.max(whole, converged) - t1,
                    60)),
            run.check(),
            run.dir.toString());
      }
    }
  }

  /** Samples of the live nodes' member views, counting those that show two clusters. */
  private static final class SplitWatch {
    int samples;
    int splits;
    String first = "";

    void sample(ChaosRun run) {
      samples++;
      run.twoClusters()
          .ifPresent(
              s -> {
                if (splits++ == 0) {
                  first = "; first: " + s;
                }
              });
    }
  }

  /**
   * D3 + L2: the node that holds the lock {@code chaos-lock} is cut from the database port only
   * (both directions; its links to the other nodes stay whole) for {@code options.partition()}. The
   * nodes reach a {@link ThrowawayPostgres} directly, so the server's own TCP keepalive ends the
   * cut node's sessions and frees the advisory lock. The holder must stop believing it holds the
   * lock (its heartbeat fails) before the server frees it for a successor.
   */
  static Outcome dbCut(Options options) {
    if (!Netns.available() || ThrowawayPostgres.binaries().isEmpty()) {
      return withoutNamespaces("db-cut", "node cut from the database");
    }
    try (Netns netns = Netns.create(3)) {
      if (!netns.hasIptables()) {
        return withoutIptables("db-cut", "database cut");
      }
      try (ThrowawayPostgres pg = ThrowawayPostgres.start(Netns.HOST_IP, "10.77.0.0/24");
          ChaosRun run = ChaosRun.start("db-cut", 3, netns, pg)) {
        long since = System.currentTimeMillis();
        JsonNode acquired =
            run.awaitEvent(
                "a lock acquisition",
                e -> e.path("kind").asText().equals("lock_acquire") && e.get("t").asLong() > since);
        String holder = acquired.get("node").asText();
        long token = acquired.get("epoch").asLong();
        NodeProcess node =
            run.cluster.nodes().stream().filter(n -> n.name().equals(holder)).findFirst().get();
        long t0 = System.currentTimeMillis();
        netns.cutFromDatabase(node.index() % 3, ThrowawayPostgres.PORT);
        run.driver("db-cut", holder + " (lock holder, token " + token + ") from the database", t0);
        long released =
            run.events().stream()
                .filter(e -> e.path("kind").asText().equals("lock_release"))
                .filter(e -> e.path("node").asText().equals(holder))
                .filter(e -> e.path("epoch").asLong() == token)
                .mapToLong(e -> e.get("t").asLong())
                .min()
                .orElse(Long.MAX_VALUE);
        if (released < t0) {
          throw new IllegalStateException(
              "the holder released the lock before the cut took effect; run again");
        }
        long lost =
            run.awaitEvent(
                    "the holder's lock_lost",
                    e ->
                        e.path("kind").asText().equals("lock_lost")
                            && e.path("node").asText().equals(holder)
                            && e.path("epoch").asLong() == token)
                .get("t")
                .asLong();
        long successor =
            run.awaitEvent(
                    "another node's lock_acquire",
                    e ->
                        e.path("kind").asText().equals("lock_acquire")
                            && !e.path("node").asText().equals(holder)
                            && e.get("t").asLong() > t0)
                .get("t")
                .asLong();
        long healAt = t0 + options.partition().toMillis();
        waitUntil(healAt); // the cut lasts this long
        long t1 = System.currentTimeMillis();
        netns.heal();
        run.driver("heal", holder + " reaches the database again", t1);
        long whole = run.awaitRecovered(t1);
        run.awaitTicks(5);
        return new Outcome(
            "db-cut",
            "the lock holder cut from the database port for "
                + options.partition().toSeconds()
                + " s (links to the other nodes whole), then healed",
            List.of(
                Outcome.seconds("holder stopped believing it holds the lock", lost - t0, 0),
                Outcome.seconds("another node acquired the lock", successor - t0, 15),
                new Outcome.Figure(
                    "holder self-fenced before the successor acquired",
                    String.format("%.1f s before", (successor - lost) / 1000.0),
                    "yes",
                    lost < successor),
                Outcome.seconds("every daemon and cron job beating after the heal", whole - t1, 0)),
            run.check(),
            run.dir.toString());
      }
    }
  }

  /** Returns at wall time {@code at} (the end of a timed fault). */
  private static void waitUntil(long at) {
    while (System.currentTimeMillis() < at) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(at - System.currentTimeMillis()));
    }
  }

  /** The outcome of a namespace scenario whose namespaces have no iptables. */
  private static Outcome withoutIptables(String scenario, String fault) {
    return new Outcome(scenario, fault + " — SKIPPED: needs iptables", List.of(), null, "-");
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

  static String exec(List<String> command) {
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
