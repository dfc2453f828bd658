package dev.troupe.bench;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The fleets' single-writer fence at size, on PostgreSQL (H2 in memory if it is not reachable).
 *
 * <p>For N = 1k, 10k and 100k keys: one embedded node starts a fleet and activates every key's
 * worker with an ask (at most 2,000 in flight), first with the fence off (the baseline: Pekko's
 * sharding alone, the same JVM and database), then with it on — each shard then takes its lease in
 * the database before its workers start. Then, with all N workers active and a light ask load (200
 * per second to random keys), the fence's writes to its two tables over a 20 s window, from
 * PostgreSQL's own statistics ({@code pg_stat_user_tables.n_tup_upd + n_tup_ins}): by design one
 * row update per renew interval, whatever N.
 */
public final class FenceBench {
  private record Ping(ActorRef<Done> replyTo) {}

  private FenceBench() {}

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = List.of(1_000, 10_000, 100_000);
    int steadySeconds = 20;
    Path output = Path.of("bench/results/fence.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" -> {
          List<Integer> parsed = new ArrayList<>();
          for (String s : Figures.value(args, ++i, "--sizes").split(",")) {
            parsed.add(Integer.parseInt(s.trim()));
          }
          sizes = parsed;
        }
        case "--steady-seconds" ->
            steadySeconds = Figures.intOption(args, ++i, "--steady-seconds", 1);
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> {
          System.err.println(
              "usage: FenceBench [--sizes 1000,10000,100000] [--steady-seconds 20]"
                  + " [--output bench/results/fence.json]");
          System.exit(2);
        }
      }
    }
    Logs.silenceSupervisors();
    String pg = Figures.postgresUrl();
    String url;
    String database;
    if (pg != null) {
      String schema = "fence_bench_" + System.currentTimeMillis();
      try (Connection c = DriverManager.getConnection(pg);
          Statement s = c.createStatement()) {
        s.execute("CREATE SCHEMA " + schema);
      }
      url = pg + (pg.contains("?") ? "&" : "?") + "currentSchema=" + schema;
      database = "PostgreSQL (127.0.0.1), fresh schema " + schema;
    } else {
      url = "jdbc:h2:mem:fence_bench;DB_CLOSE_DELAY=-1";
      database = "H2 in memory (PostgreSQL not reachable: no write statistics)";
    }

    List<List<Object>> rows = new ArrayList<>();
    Map<String, Object> data = new LinkedHashMap<>();
    // Warm-up (JIT, the database's caches), so that the first measured row is not the coldest.
    activate(url, 1_000, false, 0, null);
    activate(url, 1_000, true, 0, null);
    for (int n : sizes) {
      long off = activate(url, n, false, 0, null);
      long[] writes = new long[2];
      long on = activate(url, n, true, pg != null ? steadySeconds : 0, writes);
      int shards = shardsOf(n);
      rows.add(
          List.of(
              Figures.count(n),
              Figures.count(shards),
              Figures.ms(off),
              Figures.ms(on),
              Figures.times((double) off / on),
              pg != null
                  ? String.format(java.util.Locale.ROOT, "%.2f", writes[0] / (double) steadySeconds)
                  : "n/a",
              pg != null
                  ? String.format(java.util.Locale.ROOT, "%.2f", writes[1] / (double) steadySeconds)
                  : "n/a"));
      data.put(
          Integer.toString(n),
          Map.of(
              "activationNanosOff", off,
              "activationNanosOn", on,
              "shards", shards,
              "nodeRowWrites", writes[0],
              "shardRowWrites", writes[1]));
      System.out.printf(
          "N=%d shards=%d off=%s ms on=%s ms node-row writes=%d shard-row writes=%d%n",
          n, shards, Figures.ms(off), Figures.ms(on), writes[0], writes[1]);
    }
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("sizes", sizes);
    parameters.put("steadySeconds", steadySeconds);
    parameters.put("database", database);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    parameters.put("jvm", System.getProperty("java.version"));
    Figures.write(
        output,
        FenceBench.class,
        parameters,
        List.of(
            Figures.table(
                "Fleet single-writer fence: activation and database writes at size",
                "One embedded node on "
                    + database
                    + ". After a warm-up of 1,000 workers each way, first activation: an ask to each"
                    + " of N keys (at most 2,000 in flight) until"
                    + " every worker answered, with the fence off (baseline: Pekko's sharding alone)"
                    + " and on (each shard takes its lease in the database before its workers"
                    + " start; shards are ring partitions, at most 10,240). × off: the baseline's"
                    + " time ÷ the fence's (1.00× = no cost). Then, all N workers active and 200"
                    + " asks per second to random keys, the fence's row writes per second over "
                    + steadySeconds
                    + " s: fence-lease rows from PostgreSQL's pg_stat_user_tables (updates +"
                    + " inserts; flushed about once a second, so ±0.1/s), shard-lease rows exactly"
                    + " (epochs raised + releases). By design one fence-lease renewal per renew"
                    + " interval (1 s) and no shard-lease write while shards stay put, whatever N.",
                List.of(
                    "Keys (workers)",
                    "Shards started",
                    "Activation, fence off (ms)",
                    "Activation, fence on (ms)",
                    "× off",
                    "Fence-lease row writes per s",
                    "Shard-lease row writes per s"),
                rows)),
        data);
    System.out.println("Figures: " + output.toAbsolutePath());
  }

  /** Activates n workers on a fresh node; with {@code steadySeconds}, also counts fence writes. */
  private static long activate(String url, int n, boolean fence, int steadySeconds, long[] writes)
      throws Exception {
    String namespace = "b" + (fence ? "on" : "off") + n + "x" + (System.nanoTime() % 100000);
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("fence-bench")
                .port(0)
                .config(
                    String.join(
                        "\n",
                        "pekko.log-dead-letters = off",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                        "pekko.cluster.sharding.buffer-size = 200000",
                        "troupe.namespace = \"" + namespace + "\"",
                        "troupe.sharding.fleet.single-writer.enabled = " + (fence ? "on" : "off"),
                        "troupe.storage.url = \"" + url + "\""))
                .build());
    try {
      node.whenUp().toCompletableFuture().get(60, TimeUnit.SECONDS);
      WorkerFleet<Ping> fleet =
          WorkerFleet.start(
              node,
              FleetSpec.of(
                      "fence-bench",
                      Ping.class,
                      key ->
                          Behaviors.receiveMessage(
                              (Ping p) -> {
                                p.replyTo().tell(Done.getInstance());
                                return Behaviors.same();
                              }))
                  .withIdleTimeout(Duration.ZERO));
      long start = System.nanoTime();
      Semaphore inFlight = new Semaphore(2_000);
      List<CompletableFuture<Done>> all = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        inFlight.acquire();
        CompletableFuture<Done> reply =
            fleet
                .<Done>ask("key-" + k, Ping::new, Duration.ofSeconds(60))
                .toCompletableFuture()
                .whenComplete((d, e) -> inFlight.release());
        all.add(reply);
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
      long elapsed = System.nanoTime() - start;
      if (steadySeconds > 0) {
        long[] before = fenceWrites(url, namespace);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(steadySeconds);
        while (System.nanoTime() - until < 0) {
          fleet
              .<Done>ask(
                  "key-" + ThreadLocalRandom.current().nextInt(n),
                  Ping::new,
                  Duration.ofSeconds(10))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
          TimeUnit.MILLISECONDS.sleep(5); // pacing of the load, not synchronisation
        }
        TimeUnit.MILLISECONDS.sleep(1500); // let PostgreSQL flush its statistics
        long[] after = fenceWrites(url, namespace);
        writes[0] = after[0] - before[0];
        writes[1] = after[1] - before[1];
      }
      return elapsed;
    } finally {
      node.leave().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  /**
   * Writes so far to the fence tables: {fence-lease row writes, shard-lease row writes}. The first
   * from PostgreSQL's statistics (flushed by each backend about once a second, so a window's count
   * is off by about one); the second exactly, from the rows of {@code namespace}: every take raises
   * a row's epoch (an insert starts at 1) and every release sets released.
   */
  private static long[] fenceWrites(String url, String namespace) throws Exception {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_stat_clear_snapshot()");
      long[] writes = new long[2];
      try (ResultSet rs =
          s.executeQuery(
              "SELECT n_tup_upd + n_tup_ins FROM pg_stat_user_tables"
                  + " WHERE schemaname = current_schema() AND relname = 'troupe_fleet_node'")) {
        writes[0] = rs.next() ? rs.getLong(1) : 0;
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT COALESCE(SUM(epoch), 0) + COUNT(*) FILTER (WHERE released)"
                  + " FROM troupe_fleet_shard WHERE namespace = '"
                  + namespace
                  + "'")) {
        writes[1] = rs.next() ? rs.getLong(1) : 0;
      }
      return writes;
    }
  }

  /** How many distinct shards (ring partitions) n keys key-0..key-(n-1) fall on. */
  private static int shardsOf(int n) {
    dev.troupe.core.HashRing ring = dev.troupe.core.HashRing.of(List.of());
    Set<Integer> shards = new HashSet<>();
    for (int k = 0; k < n; k++) {
      shards.add(ring.partition("key-" + k));
    }
    return shards.size();
  }
}
