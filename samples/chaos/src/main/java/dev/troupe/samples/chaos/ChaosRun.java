package dev.troupe.samples.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.testkit.ProcessCluster;
import dev.troupe.testkit.ProcessCluster.NodeProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scenario's cluster: node JVMs running {@link ChaosNode}'s workload on a fresh database, the
 * fault driver (it only signals the processes it started, and logs each fault to {@code
 * driver.jsonl}) and live views of the witness lines.
 */
final class ChaosRun implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HOST_PORT = Pattern.compile("//([^/:?]+)(:(\\d+))?/");

  final String name;
  final Database database;
  final ProcessCluster cluster;
  final Path dir;

  private final TcpProxy proxy; // null on loopback
  private final Map<NodeProcess, List<JsonNode>> witnessed = new HashMap<>();
  private final Map<NodeProcess, Integer> consumed = new HashMap<>();

  private ChaosRun(String name, Database database, ProcessCluster cluster, TcpProxy proxy) {
    this.name = name;
    this.database = database;
    this.cluster = cluster;
    this.proxy = proxy;
    this.dir = cluster.logDir();
    write("db.url", database.url());
  }

  /** Starts {@code size} nodes with the workload, schedules the cron jobs, waits for all of it. */
  static ChaosRun start(String scenario, int size) {
    return start(scenario, size, (Netns) null);
  }

  /**
   * Like {@link #start(String, int)}; with {@code netns}, node {@code i} runs in namespace {@code
   * i} and reaches the database through a proxy on the bridge (PostgreSQL only).
   */
  static ChaosRun start(String scenario, int size, Netns netns) {
    return start(scenario, size, netns, null);
  }

  /**
   * Like {@link #start(String, int, Netns)}, on the {@link ThrowawayPostgres} {@code pg}, which the
   * nodes in namespaces reach directly on the bridge rather than through a proxy.
   */
  static ChaosRun start(String scenario, int size, Netns netns, ThrowawayPostgres pg) {
    return start(scenario, size, netns, pg, null);
  }

  /**
   * Like {@link #start(String, int)}, with the cron jobs {@code c-0..c-9} under {@code misfire}
   * (CATCH_UP: with {@link ChaosNode#CATCH_UP_WINDOW}).
   */
  static ChaosRun start(String scenario, int size, MisfirePolicy misfire) {
    return start(scenario, size, null, null, misfire);
  }

  private static ChaosRun start(
      String scenario, int size, Netns netns, ThrowawayPostgres pg, MisfirePolicy misfire) {
    String id =
        scenario + "_" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMddHHmmssSSS"));
    Database database =
        pg == null
            ? Database.forRun(id, Path.of("target", "chaos-db"))
            : Database.forRun(id, Path.of("target", "chaos-db"), pg.url());
    TcpProxy proxy = null;
    String nodeUrl = database.url();
    if (netns != null && pg != null) {
      nodeUrl = database.url().replace("//127.0.0.1:", "//" + Netns.HOST_IP + ":");
    } else if (netns != null) {
      Matcher m = HOST_PORT.matcher(database.url());
      if (!database.postgres() || !m.find()) {
        throw new IllegalStateException(
            scenario + " needs PostgreSQL (nodes in namespaces cannot share an H2 file)");
      }
      try {
        proxy =
            new TcpProxy(
                new InetSocketAddress(Netns.HOST_IP, 0),
                new InetSocketAddress(
                    m.group(1), m.group(3) == null ? 5432 : Integer.parseInt(m.group(3))));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      nodeUrl = m.replaceFirst("//" + Netns.HOST_IP + ":" + proxy.port() + "/");
    }
    String config =
        String.join(
            "\n",
            "troupe.storage.url = \"" + nodeUrl + "\"",
            "troupe.lock.namespace = \"" + id + "\"",
            // FAULTS.md 5.0: SBR keep-majority with stable-after 5 s, default failure detector.
            "pekko.cluster.split-brain-resolver.stable-after = 5s");
    ProcessCluster.Builder builder =
        ProcessCluster.builder()
            .size(size)
            .mainClass(ChaosNode.class)
            .testTimings(false)
            .config(config);
    if (netns != null) {
      // Nodes started later (after a crash) take the namespaces of the first ones again.
      builder
          .commandPrefix(i -> netns.prefix(i % size))
          .nodeConfig(
              i -> "pekko.remote.artery.canonical.hostname = \"" + Netns.ip(i % size) + "\"");
    }
    ProcessCluster cluster;
    try {
      cluster = builder.start();
    } catch (RuntimeException | Error e) {
      if (proxy != null) {
        proxy.close();
      }
      throw e;
    }
    ChaosRun run = new ChaosRun(scenario, database, cluster, proxy);
    try {
      for (NodeProcess node : cluster.aliveNodes()) {
        run.startWorkload(node);
      }
      NodeProcess first = cluster.aliveNodes().get(0);
      first.send("schedule-cron" + (misfire == null ? "" : " " + misfire.name()));
      first.awaitLine(l -> l.equals("TROUPE-CRON scheduled"), TIMEOUT);
      run.await(
          "every daemon beating and every job ticking",
          events ->
              names(events, "beat", true).size() == ChaosNode.DAEMONS
                  && names(events, "tick", false).size() == ChaosNode.JOBS
                  && !of(events, "write_ack").isEmpty()
                  && !of(events, "lock_write").isEmpty());
      run.awaitTicks(3);
      return run;
    } catch (RuntimeException | Error e) {
      run.close();
      throw e;
    }
  }

  void startWorkload(NodeProcess node) {
    node.send("workload");
    node.awaitLine(l -> l.equals("TROUPE-WORKLOAD ready"), TIMEOUT);
  }

  /** Starts a node that joins the cluster, with the workload. */
  NodeProcess addNode() {
    NodeProcess node = cluster.addNode();
    startWorkload(node);
    return node;
  }

  /** Applies {@code fault} (kill, term, stop, cont) to {@code node}; returns the wall time. */
  long fault(String fault, NodeProcess node) {
    long t = System.currentTimeMillis();
    switch (fault) {
      case "kill" -> node.kill();
      case "term" -> node.terminate();
      case "stop" -> node.pause();
      case "cont" -> node.resume();
      default -> throw new IllegalArgumentException("unknown fault [" + fault + "]");
    }
    driver(fault, node.name() + " pid " + node.pid(), t);
    return t;
  }

  void driver(String fault, String target, long t) {
    String line =
        JSON.createObjectNode().put("t", t).put("fault", fault).put("target", target).toString()
            + "\n";
    try {
      Files.writeString(
          dir.resolve("driver.jsonl"),
          line,
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until every node in {@code survivors} sees exactly them as members; returns when. */
  long awaitMembers(List<NodeProcess> survivors) {
    Set<String> expected = new TreeSet<>();
    survivors.forEach(n -> expected.add(n.address()));
    for (NodeProcess node : survivors) {
      node.awaitMembers(expected, TIMEOUT);
    }
    return System.currentTimeMillis();
  }

  /**
   * Waits until every alive node lists exactly the alive nodes in the worker group {@code
   * chaos-ticks} (the registry has converged); returns when.
   */
  long awaitRegistryConverged() {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      List<NodeProcess> alive = cluster.aliveNodes();
      Set<String> expected = new TreeSet<>();
      alive.forEach(n -> expected.add(n.address()));
      boolean converged = true;
      for (NodeProcess node : alive) {
        int from = node.lineCount();
        node.send("group");
        String line = node.awaitLineAfter(from, l -> l.startsWith("TROUPE-GROUP"), TIMEOUT);
        Set<String> seen = new TreeSet<>();
        for (String address : line.substring("TROUPE-GROUP".length()).trim().split(",")) {
          if (!address.isBlank()) {
            seen.add(address);
          }
        }
        converged &= seen.equals(expected);
      }
      if (converged) {
        return System.currentTimeMillis();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + ": the registry did not converge in " + TIMEOUT);
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }

  /** Witness events of every node so far. */
  synchronized List<JsonNode> events() {
    List<JsonNode> events = new ArrayList<>();
    for (NodeProcess node : cluster.nodes()) {
      // Node output only grows: parse each line once, not at every 100 ms poll.
      List<JsonNode> parsed = witnessed.computeIfAbsent(node, n -> new ArrayList<>());
      List<String> lines = node.lines();
      int from = consumed.getOrDefault(node, 0);
      for (String line : lines.subList(from, lines.size())) {
        if (line.startsWith("TROUPE-W ")) {
          try {
            parsed.add(JSON.readTree(line.substring(9)));
          } catch (IOException e) {
            // cut off by a kill
          }
        }
      }
      consumed.put(node, lines.size());
      events.addAll(parsed);
    }
    return events;
  }

  /** Polls the witness lines every 100 ms until {@code condition} holds. */
  void await(String what, Predicate<List<JsonNode>> condition) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.test(events())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + ": timed out after " + TIMEOUT + " awaiting " + what);
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }

  /**
   * Two live nodes that each list themselves Up, with disjoint member sets: two clusters at once
   * (split brain). Empty when there is at most one.
   */
  java.util.Optional<String> twoClusters() {
    List<NodeProcess> alive = cluster.aliveNodes();
    for (int i = 0; i < alive.size(); i++) {
      for (int j = i + 1; j < alive.size(); j++) {
        NodeProcess a = alive.get(i);
        NodeProcess b = alive.get(j);
        Set<String> ma = a.members();
        Set<String> mb = b.members();
        if (ma.contains(a.address())
            && mb.contains(b.address())
            && java.util.Collections.disjoint(ma, mb)) {
          return java.util.Optional.of(a.name() + " " + ma + " | " + b.name() + " " + mb);
        }
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Waits until every live node lists exactly the live nodes as its Up members (nodes that down
   * themselves meanwhile exit and drop out of the expectation); returns when.
   */
  long awaitSettled() {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      List<NodeProcess> alive = cluster.aliveNodes();
      Set<String> expected = new TreeSet<>();
      alive.forEach(n -> expected.add(n.address()));
      if (alive.stream().allMatch(n -> n.members().equals(expected))) {
        return System.currentTimeMillis();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + ": the live nodes did not agree in " + TIMEOUT);
      }
      LockSupport.parkNanos(100_000_000L);
    }
  }

  /**
   * The cron scheduler running now, by the witness: the take-over ({@code scheduler_start}) with
   * the highest token, waited for until its node is alive and it has not stopped.
   */
  JsonNode awaitScheduler() {
    await("a running cron scheduler", events -> currentScheduler(events).isPresent());
    return currentScheduler(events()).orElseThrow();
  }

  private java.util.Optional<JsonNode> currentScheduler(List<JsonNode> events) {
    java.util.Optional<JsonNode> latest =
        of(events, "scheduler_start").stream()
            .max(java.util.Comparator.comparingLong(e -> e.get("epoch").asLong()));
    return latest.filter(
        start ->
            cluster.aliveNodes().stream()
                    .anyMatch(n -> n.name().equals(start.path("node").asText()))
                && of(events, "scheduler_stop").stream()
                    .noneMatch(
                        stop ->
                            stop.get("epoch").asLong() == start.get("epoch").asLong()
                                && stop.path("pid").asLong() == start.path("pid").asLong()));
  }

  /** Waits for the first witness event that {@code match} accepts, and returns it. */
  JsonNode awaitEvent(String what, Predicate<JsonNode> match) {
    await(what, events -> events.stream().anyMatch(match));
    return events().stream()
        .filter(match)
        .min(java.util.Comparator.comparingLong(e -> e.get("t").asLong()))
        .orElseThrow();
  }

  /** Waits for {@code n} more ticks of job c-0: the run's clock. */
  void awaitTicks(int n) {
    long from = System.currentTimeMillis();
    await(
        n + " ticks of c-0",
        events ->
            of(events, "tick").stream()
                    .filter(e -> e.get("name").asText().equals("c-0"))
                    .filter(e -> e.get("t").asLong() > from)
                    .count()
                >= n);
  }

  /**
   * Waits until every daemon made an accepted write after {@code since} and every job ticked after
   * it, counting only nodes other than {@code excluded} (the faulty one, which may go on acting for
   * a while when it is cut off); returns the latest of those first times (the moment the service
   * was whole again without it).
   */
  long awaitRecovered(long since, String... excluded) {
    Set<String> skip = Set.of(excluded);
    Predicate<JsonNode> counted = e -> !skip.contains(e.path("node").asText());
    await(
        "every daemon and cron job back after the fault",
        events -> {
          List<JsonNode> mine = events.stream().filter(counted).toList();
          return names(after(of(mine, "beat"), since, true), "beat", true).size()
                  == ChaosNode.DAEMONS
              && names(after(of(mine, "tick"), since, false), "tick", false).size()
                  == ChaosNode.JOBS;
        });
    long whole = since;
    List<JsonNode> events = events().stream().filter(counted).toList();
    for (String kind : List.of("beat", "tick")) {
      java.util.Map<String, Long> first = new java.util.HashMap<>();
      for (JsonNode e : after(of(events, kind), since, kind.equals("beat"))) {
        first.merge(e.get("name").asText(), e.get("t").asLong(), Math::min);
      }
      for (long t : first.values()) {
        whole = Math.max(whole, t);
      }
    }
    return whole;
  }

  /** The time of {@code node}'s last accepted fenced write or received cron tick. */
  long lastActionOf(String node) {
    return events().stream()
        .filter(e -> e.path("node").asText().equals(node))
        .filter(
            e ->
                e.path("kind").asText().equals("tick")
                    || (e.path("ok").asBoolean(false)
                        && List.of("beat", "lock_write").contains(e.path("kind").asText())))
        .mapToLong(e -> e.get("t").asLong())
        .max()
        .orElse(0);
  }

  /** Waits for the first acknowledged write after {@code since}; returns its time. */
  long awaitAck(long since) {
    await(
        "an acknowledged write", events -> !after(of(events, "write_ack"), since, false).isEmpty());
    return after(of(events(), "write_ack"), since, false).stream()
        .mapToLong(e -> e.get("t").asLong())
        .min()
        .orElseThrow();
  }

  Checker.Result check() {
    return Checker.check(dir);
  }

  /**
   * Stops every node now (SIGKILL) and logs {@code stop-all} in {@code driver.jsonl}: the end of
   * the run for the checker's CATCH_UP instants. The database stays for the check.
   */
  void stopNodes() {
    driver("stop-all", "every node", System.currentTimeMillis());
    cluster.close();
  }

  @Override
  public void close() {
    cluster.close();
    if (proxy != null) {
      proxy.close();
    }
    database.dropIfAsked();
  }

  private void write(String file, String content) {
    try {
      Files.writeString(dir.resolve(file), content + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<JsonNode> of(List<JsonNode> events, String kind) {
    return events.stream().filter(e -> e.path("kind").asText().equals(kind)).toList();
  }

  private static List<JsonNode> after(List<JsonNode> events, long since, boolean acceptedOnly) {
    return events.stream()
        .filter(e -> e.get("t").asLong() > since)
        .filter(e -> !acceptedOnly || e.path("ok").asBoolean(false))
        .toList();
  }

  private static Set<String> names(List<JsonNode> events, String kind, boolean acceptedOnly) {
    Set<String> names = new TreeSet<>();
    for (JsonNode e : of(events, kind)) {
      if (!acceptedOnly || e.path("ok").asBoolean(false)) {
        names.add(e.get("name").asText());
      }
    }
    return names;
  }
}
