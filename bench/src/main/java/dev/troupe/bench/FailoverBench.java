package dev.troupe.bench;

import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

/**
 * How long daemons take to run again after their node dies or leaves, on three node JVMs on
 * loopback with Troupe's shipped settings (no test timings), once with {@code
 * troupe.core.failover-profile = default} and once with {@code fast}.
 *
 * <p>Scenarios, each over several rounds (a new node joins after each one so the cluster stays at
 * three): SIGKILL of a node that does not host the leader; SIGKILL of the node that hosts the
 * leader (the daemons are taken over by the other hosts from the lease table; the baseline, a raw
 * Pekko Cluster Singleton started on the same JVMs, moves only once the node is downed); a graceful
 * leave (hand-over). A round's figure is the time from the fault to the start of the last of the
 * lost daemons on another node (wall clock, one machine). Storage: {@code TROUPE_TEST_POSTGRES_URL}
 * or the local PostgreSQL if reachable, else a shared H2 file. Writes {@code
 * bench/results/failover.json}.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.troupe.bench.FailoverBench [--rounds 10] [--output f]
 * </pre>
 */
public final class FailoverBench {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final int DAEMONS = 30;

  private FailoverBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = 10;
    int otherRounds = 3;
    Path output = Path.of("bench/results/failover.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--other-rounds" -> otherRounds = Integer.parseInt(args[++i]);
        case "--output" -> output = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option: " + args[i]);
      }
    }
    String storage = storageUrl();
    System.out.println("==> storage: " + storage.replaceAll("password=[^&]*", "password=***"));
    List<List<String>> rows = new ArrayList<>();
    for (String profile : List.of("default", "fast")) {
      Map<String, List<Long>> figures = run(profile, storage, rounds, otherRounds);
      figures.forEach(
          (scenario, millis) -> {
            List<String> row = row(profile, scenario, millis, figures.get("baseline-singleton"));
            rows.add(row);
            System.out.println(String.join(" | ", row));
          });
    }
    write(output, rows, rounds, otherRounds);
    System.out.println("Failover figures written to " + output);
    System.exit(0);
  }

  private static String storageUrl() throws Exception {
    String url = System.getenv("TROUPE_TEST_POSTGRES_URL");
    if (url == null || url.isBlank()) {
      url = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    }
    try (Connection c = DriverManager.getConnection(url)) {
      return url;
    } catch (Exception unreachable) {
      Path file = Files.createTempDirectory("troupe-failover").resolve("db");
      return "jdbc:h2:file:" + file + ";AUTO_SERVER=TRUE";
    }
  }

  private static Map<String, List<Long>> run(
      String profile, String storage, int rounds, int otherRounds) {
    String config =
        "troupe.storage.url = \""
            + storage
            + "\"\ntroupe.lock.namespace = \"failover-"
            + UUID.randomUUID()
            + "\"\ntroupe.core.failover-profile = "
            + profile
            + "\n";
    Map<String, List<Long>> figures = new java.util.LinkedHashMap<>();
    try (ProcessCluster cluster =
        ProcessCluster.builder()
            .size(3)
            .config(config)
            .testTimings(false)
            .mainClass(FailoverNode.class)
            .start()) {
      for (NodeProcess node : cluster.nodes()) {
        startDaemons(node);
      }
      awaitSettled(cluster, null);
      System.out.println("==> profile " + profile + ": SIGKILL of a node without the leader");
      figures.put("kill", kills(cluster, rounds, false, null));
      System.out.println("==> profile " + profile + ": SIGKILL of the leader's node");
      List<Long> baseline = new ArrayList<>();
      figures.put("kill-leader", kills(cluster, otherRounds, true, baseline));
      figures.put("baseline-singleton", baseline);
      System.out.println("==> profile " + profile + ": graceful leave");
      figures.put("leave", leaves(cluster, otherRounds));
    }
    return figures;
  }

  private static void startDaemons(NodeProcess node) {
    node.send("daemons " + DAEMONS);
    node.awaitLine(l -> l.equals("TROUPE-DAEMONS ready"), TIMEOUT);
  }

  /**
   * Kill rounds; with {@code baseline} non-null, also the time until the raw singleton (on the
   * victim, the oldest node) started on another node, per round.
   */
  private static List<Long> kills(
      ProcessCluster cluster, int rounds, boolean leader, List<Long> baseline) {
    List<Long> millis = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<NodeProcess> alive = cluster.aliveNodes();
      NodeProcess victim = leader ? alive.get(0) : alive.get(1 + r % (alive.size() - 1));
      Set<String> lost = running(cluster, victim);
      long at = System.currentTimeMillis();
      victim.kill();
      long took = awaitBack(cluster, lost, at);
      millis.add(took);
      System.out.printf(
          Locale.ROOT, "  round %d: %d daemon(s) back after %d ms%n", r + 1, lost.size(), took);
      if (baseline != null) {
        long singleton = awaitSingleton(cluster, at);
        baseline.add(singleton);
        System.out.printf(
            Locale.ROOT, "  round %d: raw Pekko singleton back after %d ms%n", r + 1, singleton);
      }
      replace(cluster);
    }
    return millis;
  }

  private static List<Long> leaves(ProcessCluster cluster, int rounds) {
    List<Long> millis = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<NodeProcess> alive = cluster.aliveNodes();
      NodeProcess leaving = alive.get(alive.size() - 1);
      Set<String> lost = running(cluster, leaving);
      long at = System.currentTimeMillis();
      leaving.send("leave");
      long took = awaitBack(cluster, lost, at);
      millis.add(took);
      System.out.printf(
          Locale.ROOT, "  round %d: %d daemon(s) handed over in %d ms%n", r + 1, lost.size(), took);
      leaving.awaitExit(TIMEOUT);
      replace(cluster);
    }
    return millis;
  }

  /** Starts a new node (with daemons) and waits until every daemon runs and the moves are over. */
  private static void replace(ProcessCluster cluster) {
    NodeProcess added = cluster.addNode();
    startDaemons(added);
    awaitSettled(cluster, added);
  }

  /** Waits until every daemon runs exactly once on the alive nodes (and some on {@code fresh}). */
  private static void awaitSettled(ProcessCluster cluster, NodeProcess fresh) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      Set<String> names = new HashSet<>();
      int instances = 0;
      for (NodeProcess node : cluster.aliveNodes()) {
        Set<String> here = running(cluster, node);
        names.addAll(here);
        instances += here.size();
      }
      boolean freshHasSome = fresh == null || !running(cluster, fresh).isEmpty();
      if (names.size() == DAEMONS && instances == DAEMONS && freshHasSome) {
        // Let the bounded rebalance finish: no start for a while.
        long lastStart = lastStart(cluster);
        if (System.currentTimeMillis() - lastStart > 6_000) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("daemons did not settle: " + names.size() + " names");
      }
      LockSupport.parkNanos(200_000_000L);
    }
  }

  private static long lastStart(ProcessCluster cluster) {
    long last = 0;
    for (NodeProcess node : cluster.nodes()) {
      for (String line : node.lines()) {
        if (line.startsWith("TROUPE-DAEMON start ")) {
          last = Math.max(last, Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
        }
      }
    }
    return last;
  }

  /** The daemons whose latest start, over every node, was on {@code node}. */
  private static Set<String> running(ProcessCluster cluster, NodeProcess node) {
    Map<String, Long> latestAt = new HashMap<>();
    Map<String, NodeProcess> latestOn = new HashMap<>();
    for (NodeProcess each : cluster.nodes()) {
      for (String line : each.lines()) {
        if (line.startsWith("TROUPE-DAEMON start ")) {
          String[] f = line.split(" ");
          long when = Long.parseLong(f[4]);
          if (when >= latestAt.getOrDefault(f[2], Long.MIN_VALUE)) {
            latestAt.put(f[2], when);
            latestOn.put(f[2], each);
          }
        }
      }
    }
    Set<String> here = new HashSet<>();
    latestOn.forEach(
        (name, on) -> {
          if (on == node) {
            here.add(name);
          }
        });
    return here;
  }

  /** Waits until each of {@code names} started on another node after {@code at}; the last one. */
  private static long awaitBack(ProcessCluster cluster, Set<String> names, long at) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      Map<String, Long> back = new HashMap<>();
      for (NodeProcess node : cluster.aliveNodes()) {
        for (String line : node.lines()) {
          if (line.startsWith("TROUPE-DAEMON start ")) {
            String[] f = line.split(" ");
            long when = Long.parseLong(f[4]);
            if (names.contains(f[2]) && when >= at) {
              back.merge(f[2], when, Math::min);
            }
          }
        }
      }
      if (back.keySet().containsAll(names)) {
        return back.values().stream().mapToLong(Long::longValue).max().orElse(at) - at;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("daemons not back: " + names + " vs " + back.keySet());
      }
      LockSupport.parkNanos(20_000_000L);
    }
  }

  /** Waits until the baseline singleton started on an alive node after {@code at}. */
  private static long awaitSingleton(ProcessCluster cluster, long at) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      for (NodeProcess node : cluster.aliveNodes()) {
        for (String line : node.lines()) {
          if (line.startsWith("TROUPE-SINGLETON start ")) {
            long when = Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            if (when >= at) {
              return when - at;
            }
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the baseline singleton did not move");
      }
      LockSupport.parkNanos(20_000_000L);
    }
  }

  private static long p50(List<Long> millis) {
    List<Long> sorted = new ArrayList<>(millis);
    sorted.sort(null);
    return sorted.get((sorted.size() - 1) / 2);
  }

  private static List<String> row(
      String profile, String scenario, List<Long> millis, List<Long> baseline) {
    List<Long> sorted = new ArrayList<>(millis);
    sorted.sort(null);
    long p50 = sorted.get((sorted.size() - 1) / 2);
    long max = sorted.get(sorted.size() - 1);
    boolean isBaseline = scenario.equals("baseline-singleton");
    long goal =
        switch (scenario) {
          case "kill", "kill-leader" -> 8_000;
          default -> 1_000;
        };
    if (profile.equals("fast") && !scenario.equals("leave")) {
      goal /= 2;
    }
    String what =
        switch (scenario) {
          case "kill" -> "SIGKILL of a node without the leader";
          case "kill-leader" -> "SIGKILL of the leader's node";
          case "baseline-singleton" -> "baseline: raw Pekko singleton, SIGKILL of its node";
          default -> "graceful leave (hand-over)";
        };
    String ratio =
        scenario.equals("kill-leader") && baseline != null && !baseline.isEmpty()
            ? String.format(Locale.ROOT, "%.2f×", p50 / (double) p50(baseline))
            : "—";
    return List.of(
        what,
        profile,
        Integer.toString(millis.size()),
        String.format(Locale.ROOT, "%.2f", p50 / 1000.0),
        String.format(Locale.ROOT, "%.2f", max / 1000.0),
        ratio,
        isBaseline ? "—" : "≤ " + String.format(Locale.ROOT, "%.1f", goal / 1000.0) + " s",
        isBaseline ? "baseline" : max <= goal ? "met" : "**not met**");
  }

  private static void write(Path output, List<List<String>> rows, int rounds, int otherRounds)
      throws IOException {
    StringBuilder json = new StringBuilder();
    json.append("{\"tables\": [{\"title\": \"Daemon failover\", \"description\": ");
    json.append(
        quote(
            "Three node JVMs on 127.0.0.1 with Troupe's shipped settings (SBR keep-majority,"
                + " stable-after 7 s; fast profile: 3.5 s and a 500 ms / 1.5 s failure detector),"
                + " 30 daemons placed on the ring, lock tokens and the leader lease on the same"
                + " database. A round's figure is the time from the fault to the start of the last"
                + " of the lost daemons on another node; after each round a new node joins. Kill"
                + " rounds: "
                + rounds
                + "; leader-kill and leave rounds: "
                + otherRounds
                + ". Baseline, same JVMs and rounds: a raw Pekko Cluster Singleton (no lease) on"
                + " every node, living on the oldest one, which the leader-kill rounds kill: the"
                + " time until it starts on another node; 'vs baseline' is Troupe's p50 over the"
                + " singleton's p50 in the same rounds. (shared/FAULTS.md: a raw singleton never"
                + " moves with Pekko's defaults, which have no downing provider; ergo-extensions"
                + " re-plans after ~60 s.)"));
    json.append(", \"columns\": [\"Fault\", \"Profile\", \"Rounds\", \"p50 s\", \"max s\",");
    json.append(" \"vs baseline\", \"Goal (max)\", \"Met\"], \"rows\": [");
    for (int i = 0; i < rows.size(); i++) {
      json.append(i == 0 ? "" : ",").append("[");
      List<String> row = rows.get(i);
      for (int j = 0; j < row.size(); j++) {
        json.append(j == 0 ? "" : ",").append(quote(row.get(j)));
      }
      json.append("]");
    }
    json.append("]}], \"writtenAt\": ").append(quote(Instant.now().toString())).append("}\n");
    Files.createDirectories(output.toAbsolutePath().getParent());
    Files.writeString(output, json.toString());
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
