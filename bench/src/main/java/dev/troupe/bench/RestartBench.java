package dev.troupe.bench;

import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.Storage;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.WorkerFleet;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * How soon a crashed fleet worker answers again, its state reloaded from a {@link Repository},
 * against a bare supervised Pekko actor that restarts without any state to load; written as JSON
 * tables for {@link PerformanceReport}.
 *
 * <p>One embedded {@link TroupeNode} (port 0). The worker of each key loads its state (a small
 * record, stored as JSON) from a repository on an in-memory H2 database in its {@code
 * Behaviors.setup}, answers {@link Get} with it, and throws on {@link Crash}. Each round takes a
 * key whose worker runs (started by an earlier {@code Get}), tells it {@link Crash} and asks it
 * {@link Get} right after; the figure is the time from just before the tell until the reply. Each
 * key crashes once: a fleet worker restarts at once only for its first failures within 10 s and
 * with a backoff after that (a worker that keeps failing is not measured here).
 *
 * <p>Measured in the same rounds, interleaved, each kind on keys of its own:
 *
 * <ol>
 *   <li><b>fleet, reload from repository</b>: the figure with the goal, p99 ≤ 20 ms;
 *   <li><b>fleet, no repository</b>: the same worker building its state in memory, to tell the
 *       fleet's own restart cost from the reload;
 *   <li><b>raw sharding entity</b>: a plain Pekko sharded entity type whose behavior is the same
 *       worker under {@code Behaviors.supervise(..).onFailure(SupervisorStrategy.restart())}, told
 *       and asked through its {@code EntityRef}: the routing that the fleet shares with it;
 *   <li><b>baseline</b>: a bare {@code Behaviors.supervise(..).onFailure(SupervisorStrategy
 *       .restart())} actor with the same protocol and in-memory state, asked with {@code
 *       AskPattern.ask}.
 * </ol>
 *
 * <p>Supervisor failure logs are switched off for all four (each crash would print a stack trace),
 * so the figures do not include writing logs.
 *
 * <p>Usage: {@code RestartBench [--rounds 1000] [--warmup 3000] [--output
 * bench/results/restart.json]}. Run from the repository root ({@code bench/run} does).
 */
public final class RestartBench {
  private static final long GOAL_P99_MS = 20;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final EntityTypeKey<Command> RAW_TYPE =
      EntityTypeKey.create(Command.class, "bench-restart-raw");

  /** The worker's durable state. */
  public record State(String owner, long balance, List<String> tags) {}

  /** The protocol. */
  public sealed interface Command {}

  /** Replies the worker's state. */
  public record Get(ActorRef<State> replyTo) implements Command {}

  /** Throws: the worker fails and is restarted. */
  public enum Crash implements Command {
    INSTANCE
  }

  private RestartBench() {}

  public static void main(String[] args) throws Exception {
    Path output = Path.of("bench/results/restart.json");
    int rounds = 1000;
    int warmup = 3000;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Figures.intOption(args, ++i, "--rounds", 1);
        case "--warmup" -> warmup = Figures.intOption(args, ++i, "--warmup", 0);
        case "--output" -> output = Path.of(Figures.value(args, ++i, "--output"));
        default -> {
          System.err.println(
              "usage: RestartBench [--rounds 1000] [--warmup 3000]"
                  + " [--output bench/results/restart.json]");
          System.exit(2);
        }
      }
    }
    long started = System.nanoTime();
    int keys = warmup + rounds;
    String url = "jdbc:h2:mem:bench_" + UUID.randomUUID().toString().replace("-", "");
    TroupeNode node =
        TroupeNode.start(
            NodeOptions.builder()
                .name("restart-bench")
                .port(0)
                .config(
                    String.join(
                        "\n",
                        "pekko.log-dead-letters = off",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                        "troupe.storage.url = \"" + url + "_node;DB_CLOSE_DELAY=-1\""))
                .build());
    Storage storage = Storage.fromUrl(url + ";DB_CLOSE_DELAY=-1");
    try {
      node.whenUp().toCompletableFuture().get(60, TimeUnit.SECONDS);
      Repository<State> repository = Repository.create(storage, "bench-restart", State.class);
      for (int k = 0; k < keys; k++) {
        repository.save(key(k), state(k), 0);
      }
      Logs.silenceSupervisors();

      WorkerFleet<Command> reloading =
          WorkerFleet.start(
              node,
              FleetSpec.of(
                      "restart-reload",
                      Command.class,
                      key ->
                          Behaviors.setup(
                              ctx -> worker(repository.load(key).orElseThrow().value())))
                  .withIdleTimeout(Duration.ZERO));
      WorkerFleet<Command> inMemory =
          WorkerFleet.start(
              node,
              FleetSpec.of(
                      "restart-memory",
                      Command.class,
                      key -> Behaviors.setup(ctx -> worker(state(index(key)))))
                  .withIdleTimeout(Duration.ZERO));
      ClusterSharding sharding = ClusterSharding.get(node.system());
      sharding.init(
          Entity.of(
              RAW_TYPE,
              ctx ->
                  Behaviors.supervise(
                          Behaviors.<Command>setup(c -> worker(state(index(ctx.getEntityId())))))
                      .onFailure(SupervisorStrategy.restart())));
      List<ActorRef<Command>> bare = new ArrayList<>(keys);
      for (int k = 0; k < keys; k++) {
        int index = k;
        bare.add(
            node.system()
                .<Command>systemActorOf(
                    Behaviors.supervise(Behaviors.<Command>setup(ctx -> worker(state(index))))
                        .onFailure(SupervisorStrategy.restart()),
                    "bare-" + k,
                    Props.empty()));
      }
      // Every worker runs before its round: its restart is measured, not its first start.
      for (int k = 0; k < keys; k++) {
        check(k, join(reloading.ask(key(k), Get::new, TIMEOUT)));
        check(k, join(inMemory.ask(key(k), Get::new, TIMEOUT)));
        check(k, join(sharding.entityRefFor(RAW_TYPE, key(k)).ask(Get::new, TIMEOUT)));
        check(k, ask(node, bare.get(k)));
      }

      Series reload = new Series("fleetReload");
      Series memory = new Series("fleetMemory");
      Series raw = new Series("rawSharding");
      Series baseline = new Series("bare");
      List<Series> all = List.of(reload, memory, raw, baseline);
      System.out.printf(Locale.ROOT, "==> %d warm-up + %d measured rounds%n", warmup, rounds);
      for (int k = 0; k < keys; k++) {
        // Rotate the order, so that none of the kinds always runs right after another.
        for (int turn = 0; turn < all.size(); turn++) {
          int which = (k + turn) % all.size();
          long nanos =
              switch (which) {
                case 0 -> restart(k, reloading);
                case 1 -> restart(k, inMemory);
                case 2 -> restartRaw(k, sharding);
                default -> restartBare(k, node, bare.get(k));
              };
          if (k >= warmup) {
            all.get(which).add(nanos);
          }
        }
      }
      long restarts = (long) (reloading.metrics().restarts() + inMemory.metrics().restarts());
      all.forEach(series -> System.out.println(series.summary()));
      write(output, all, rounds, warmup, restarts);
    } finally {
      node.system().terminate();
      node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      storage.close();
    }
    System.out.printf(
        Locale.ROOT,
        "Restart figures written to %s in %.1f s%n",
        output,
        (System.nanoTime() - started) / 1e9);
  }

  private static long restart(int k, WorkerFleet<Command> fleet) {
    String key = key(k);
    long start = System.nanoTime();
    fleet.tell(key, Crash.INSTANCE);
    State state = join(fleet.ask(key, Get::new, TIMEOUT));
    long nanos = System.nanoTime() - start;
    check(k, state);
    return nanos;
  }

  private static long restartRaw(int k, ClusterSharding sharding) {
    EntityRef<Command> entity = sharding.entityRefFor(RAW_TYPE, key(k));
    long start = System.nanoTime();
    entity.tell(Crash.INSTANCE);
    State state = join(entity.ask(Get::new, TIMEOUT));
    long nanos = System.nanoTime() - start;
    check(k, state);
    return nanos;
  }

  private static long restartBare(int k, TroupeNode node, ActorRef<Command> actor) {
    long start = System.nanoTime();
    actor.tell(Crash.INSTANCE);
    State state = ask(node, actor);
    long nanos = System.nanoTime() - start;
    check(k, state);
    return nanos;
  }

  private static State ask(TroupeNode node, ActorRef<Command> actor) {
    return join(AskPattern.ask(actor, Get::new, TIMEOUT, node.system().scheduler()));
  }

  /** The worker: answers {@link Get} with its state, throws on {@link Crash}. */
  private static Behavior<Command> worker(State state) {
    return Behaviors.receiveMessage(
        message -> {
          if (message instanceof Get get) {
            get.replyTo().tell(state);
            return Behaviors.same();
          }
          throw new IllegalStateException("worker of [" + state.owner() + "] told to crash");
        });
  }

  private static String key(int k) {
    return "worker-" + k;
  }

  private static int index(String key) {
    return Integer.parseInt(key.substring("worker-".length()));
  }

  private static State state(int k) {
    return new State(key(k), 1000L + k, List.of("bench", "restart", "k" + (k % 10)));
  }

  private static void check(int k, State state) {
    if (!state.equals(state(k))) {
      throw new IllegalStateException("worker " + k + " answered " + state);
    }
  }

  private static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  // ---- results ----

  /** Latencies of one kind of restart, in nanoseconds. */
  private static final class Series {
    final String key;
    final List<Long> nanos = new ArrayList<>();

    Series(String key) {
      this.key = key;
    }

    void add(long value) {
      nanos.add(value);
    }

    long[] values() {
      return nanos.stream().mapToLong(Long::longValue).toArray();
    }

    long p(double p) {
      return Figures.percentile(values(), p);
    }

    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("key", key);
      map.put("rounds", nanos.size());
      map.put("p50Ms", p(50) / 1e6);
      map.put("p95Ms", p(95) / 1e6);
      map.put("p99Ms", p(99) / 1e6);
      map.put("maxMs", p(100) / 1e6);
      map.put("meanMs", nanos.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6);
      map.put("samplesMs", nanos.stream().map(n -> n / 1e6).toList());
      return map;
    }

    String summary() {
      return String.format(
          Locale.ROOT,
          "%-12s p50 %7s  p95 %7s  p99 %7s  max %7s ms",
          key,
          Figures.ms(p(50)),
          Figures.ms(p(95)),
          Figures.ms(p(99)),
          Figures.ms(p(100)));
    }
  }

  private static void write(Path output, List<Series> all, int rounds, int warmup, long restarts)
      throws java.io.IOException {
    Series reload = all.get(0);
    Series memory = all.get(1);
    Series raw = all.get(2);
    Series baseline = all.get(3);
    List<List<Object>> rows = new ArrayList<>();
    rows.add(
        row(
            "Fleet worker, state reloaded from the repository (H2 in memory)",
            reload,
            baseline,
            "p99 ≤ " + GOAL_P99_MS + " ms (2 s SLO ÷ 100)",
            reload.p(99) <= TimeUnit.MILLISECONDS.toNanos(GOAL_P99_MS) ? "met" : "**not met**"));
    rows.add(row("Fleet worker, state built in memory", memory, baseline, "—", "—"));
    rows.add(
        row(
            "Raw Pekko sharding entity, `supervise(..).onFailure(restart())`, state in memory",
            raw,
            baseline,
            "—",
            "—"));
    rows.add(
        row(
            "Baseline: bare `Behaviors.supervise(..).onFailure(restart())` actor, state in memory",
            baseline,
            baseline,
            "—",
            "—"));
    String description =
        "One embedded node. Each round tells a running worker Crash (it throws) and asks it Get"
            + " right after; the time from just before the tell until the reply, which the"
            + " restarted worker sends once its setup has run again (for the first row: loaded"
            + " its state, a small JSON record, from a Repository on an in-memory H2 database)."
            + " Each key crashes once (a fleet worker restarts at once for its first 3 failures"
            + " within 10 s, with a backoff after that). The raw sharding entity is told and"
            + " asked through its EntityRef, the bare actor directly (AskPattern.ask). The four"
            + " kinds run interleaved in the same rounds, "
            + rounds
            + " measured after "
            + warmup
            + " warm-up rounds; percentiles are nearest-rank. Supervisor failure logs are"
            + " switched off for all four. × bare: the baseline's p99 ÷ the row's p99"
            + " (1.00× = as fast as the bare restart).";
    Map<String, Object> table =
        Figures.table(
            "Restart: a crashed worker answers again",
            description,
            List.of(
                "Worker",
                "Rounds",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "× bare (p99)",
                "Goal",
                "Met"),
            rows);
    Map<String, Object> parameters = new LinkedHashMap<>();
    parameters.put("rounds", rounds);
    parameters.put("warmupRounds", warmup);
    parameters.put("fleetRestartsCounted", restarts);
    parameters.put("cpus", Runtime.getRuntime().availableProcessors());
    parameters.put("jvm", System.getProperty("java.vm.version"));
    Figures.write(
        output,
        RestartBench.class,
        parameters,
        List.of(table),
        List.of(reload.toMap(), memory.toMap(), baseline.toMap()));
  }

  private static List<Object> row(
      String label, Series series, Series baseline, String goal, String met) {
    return List.of(
        label,
        series.nanos.size(),
        Figures.ms(series.p(50)),
        Figures.ms(series.p(95)),
        Figures.ms(series.p(99)),
        Figures.ms(series.p(100)),
        Figures.times((double) baseline.p(99) / series.p(99)),
        goal,
        met);
  }
}
