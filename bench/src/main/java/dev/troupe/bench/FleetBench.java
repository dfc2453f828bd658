package dev.troupe.bench;

import dev.troupe.bench.PerformanceReport.Baseline;
import dev.troupe.bench.PerformanceReport.Goal;
import dev.troupe.core.NodeOptions;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code WorkerFleet.ask} on a 3-node cluster in one JVM (127.0.0.1, port 0) against a raw Pekko
 * {@code EntityRef.ask} to a plain sharded entity type on the same cluster, measured in the same
 * run.
 *
 * <p>Every fork starts the three nodes, the fleet {@code bench} (its worker answers {@link Ping} at
 * once) and the raw entity type {@code bench-raw} (the same behavior, Pekko's default message
 * extractor and allocation strategy) on all three, waits until the coordinator of each knows the
 * three regions, then warms every key of both until each answers, the fleet's from the node {@code
 * addressBook().pickNode(key)} names. Asks go from node 0 to {@value #KEYS} fixed keys cycled with
 * an index, so about two thirds of them cross to another node (the setup prints the count for
 * both).
 *
 * <ul>
 *   <li>{@link #fleetAsk()} / {@link #rawAsk()}: one ask at a time, waiting for the reply;
 *       SampleTime, so the report has p50 / p95 / p99 besides the mean.
 *   <li>{@link #fleetAskThroughput()} / {@link #rawAskThroughput()}: bursts of {@value #BURST} asks
 *       to {@value #BURST} consecutive keys sent at once, then waiting for all replies; asks per
 *       second.
 * </ul>
 */
@State(Scope.Benchmark)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FleetBench {
  static final int NODES = 3;
  static final int KEYS = 300;
  static final int BURST = 100;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(90);
  private static final EntityTypeKey<Command> RAW_TYPE =
      EntityTypeKey.create(Command.class, "bench-raw");

  /** For several nodes in one JVM; quiet logs. */
  static final String CLUSTER_CONFIG =
      String.join(
          "\n",
          "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
          "pekko.log-dead-letters = off",
          "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
          "pekko.coordinated-shutdown.run-by-actor-system-terminate = off",
          "troupe.core.close-timeout = 30s");

  /** The protocol of both the fleet's workers and the raw entities. */
  public sealed interface Command extends TroupeSerializable {}

  /** Replies {@link Done} at once. */
  public record Ping(ActorRef<Done> replyTo) implements Command {}

  /** Replies the address of the node the worker or entity runs on. */
  public record Where(ActorRef<String> replyTo) implements Command {}

  private List<TroupeNode> nodes;
  private WorkerFleet<Command> fleet;
  private ClusterSharding sharding;
  private String[] keys;
  private int next;

  /** The behavior of a fleet worker and of a raw entity alike. */
  static Behavior<Command> responder(String address) {
    return Behaviors.receiveMessage(
        message -> {
          if (message instanceof Ping ping) {
            ping.replyTo().tell(Done.getInstance());
          } else if (message instanceof Where where) {
            where.replyTo().tell(address);
          }
          return Behaviors.same();
        });
  }

  @Setup
  public void setUp() {
    nodes = startCluster("fleet-bench", NODES, CLUSTER_CONFIG);
    List<WorkerFleet<Command>> fleets = new ArrayList<>();
    for (TroupeNode node : nodes) {
      String address = node.address().toString();
      fleets.add(
          WorkerFleet.start(node, FleetSpec.of("bench", Command.class, key -> responder(address))));
      ClusterSharding.get(node.system()).init(Entity.of(RAW_TYPE, ctx -> responder(address)));
    }
    fleet = fleets.get(0);
    TroupeNode first = nodes.get(0);
    sharding = ClusterSharding.get(first.system());
    awaitRegions(first, RAW_TYPE);
    awaitRegions(first, EntityTypeKey.create(Object.class, "troupe-fleet-bench"));

    keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key-" + i;
    }
    String self = first.address().toString();
    // Each key of the fleet on the node the ring names (a shard allocated before every region
    // was known would be moved there by a rebalance), and every raw key answering.
    awaitTrue(
        "every fleet key on its pickNode",
        () -> {
          try {
            for (String key : keys) {
              String host = join(fleet.<String>ask(key, Where::new, TIMEOUT));
              if (!host.equals(first.addressBook().pickNode(key).toString())) {
                return false;
              }
            }
            return true;
          } catch (RuntimeException e) {
            return false; // a shard on its way: ask again
          }
        });
    int fleetRemote = 0;
    int rawRemote = 0;
    for (String key : keys) {
      fleetRemote += join(fleet.<String>ask(key, Where::new, TIMEOUT)).equals(self) ? 0 : 1;
      rawRemote += join(rawWhere(key)).equals(self) ? 0 : 1;
    }
    // A few thousand asks of each kind, so that both paths are compiled before the warmup.
    for (int i = 0; i < 3000; i++) {
      fleetAsk();
      rawAsk();
    }
    System.out.printf(
        Locale.ROOT,
        "%nFleetBench: %d nodes up; keys on another node than the asking one: fleet %d / %d,"
            + " raw %d / %d%n",
        nodes.size(),
        fleetRemote,
        KEYS,
        rawRemote,
        KEYS);
  }

  @TearDown
  public void tearDown() {
    stopCluster(nodes);
  }

  /** One {@code WorkerFleet.ask}, waiting for the reply. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Baseline("rawAsk")
  @Goal(percentile = 95, atMost = 2500, label = "≤ 2.5 ms (25 ms dispatch SLO ÷ 10)")
  @Goal(percentile = 99, ratioAtLeast = 1 / 1.1, label = "≤ 1.1× `rawAsk` p99")
  public Done fleetAsk() {
    return join(fleet.<Done>ask(keys[nextKey()], Ping::new, TIMEOUT));
  }

  /** The baseline: {@code EntityRef.ask} to the raw entity type, waiting for the reply. */
  @Benchmark
  @BenchmarkMode(Mode.SampleTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Done rawAsk() {
    return join(sharding.entityRefFor(RAW_TYPE, keys[nextKey()]).ask(Ping::new, TIMEOUT));
  }

  /** Bursts of {@value #BURST} concurrent {@code WorkerFleet.ask}s; asks per second. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(BURST)
  @Baseline("rawAskThroughput")
  @Goal(ratioAtLeast = 0.95, label = "≥ 0.95× `rawAskThroughput`")
  public void fleetAskThroughput() {
    CompletableFuture<?>[] replies = new CompletableFuture<?>[BURST];
    for (int i = 0; i < BURST; i++) {
      replies[i] = fleet.<Done>ask(keys[nextKey()], Ping::new, TIMEOUT).toCompletableFuture();
    }
    CompletableFuture.allOf(replies).join();
  }

  /** The baseline: bursts of {@value #BURST} concurrent raw {@code EntityRef.ask}s. */
  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @OperationsPerInvocation(BURST)
  public void rawAskThroughput() {
    CompletableFuture<?>[] replies = new CompletableFuture<?>[BURST];
    for (int i = 0; i < BURST; i++) {
      replies[i] =
          sharding
              .entityRefFor(RAW_TYPE, keys[nextKey()])
              .<Done>ask(Ping::new, TIMEOUT)
              .toCompletableFuture();
    }
    CompletableFuture.allOf(replies).join();
  }

  private int nextKey() {
    int index = next;
    next = index + 1 == KEYS ? 0 : index + 1;
    return index;
  }

  private CompletionStage<String> rawWhere(String key) {
    return sharding.entityRefFor(RAW_TYPE, key).ask(Where::new, TIMEOUT);
  }

  // ---- the cluster ----

  /**
   * Starts {@code size} nodes, the later ones joining the first, and waits until all see all Up.
   */
  static List<TroupeNode> startCluster(String prefix, int size, String config) {
    List<TroupeNode> started = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        List<String> seeds = i == 0 ? List.of() : List.of(started.get(0).address().toString());
        started.add(
            TroupeNode.start(
                NodeOptions.builder()
                    .name(prefix + "-" + i)
                    .port(0)
                    .seedNodes(seeds)
                    .config(config)
                    .build()));
      }
      for (TroupeNode node : started) {
        awaitTrue(
            node + " to see " + size + " Up members",
            () ->
                node.members().size() == size
                    && Cluster.get(node.system()).state().getUnreachable().isEmpty());
      }
      return started;
    } catch (RuntimeException e) {
      stopCluster(started);
      throw e;
    }
  }

  /**
   * Terminates every node at once, without a graceful leave or CoordinatedShutdown (nothing needs
   * handing over when the whole cluster stops), and waits up to 30 s for them.
   */
  static void stopCluster(List<TroupeNode> nodes) {
    if (nodes == null) {
      return;
    }
    List<CompletableFuture<?>> terminated = new ArrayList<>();
    for (TroupeNode node : nodes) {
      node.system().terminate();
      terminated.add(node.system().getWhenTerminated().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(terminated.toArray(CompletableFuture[]::new))
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      System.err.println("Cluster did not terminate in 30 s: " + e);
    }
  }

  /** Waits until the coordinator of {@code type} knows a region on every node. */
  private static void awaitRegions(TroupeNode node, EntityTypeKey<?> type) {
    ClusterSharding sharding = ClusterSharding.get(node.system());
    awaitTrue(
        "the " + NODES + " regions of " + type.name(),
        () -> {
          try {
            ShardRegion.ClusterShardingStats stats =
                join(
                    AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
                        sharding.shardState(),
                        replyTo ->
                            new GetClusterShardingStats(type, Duration.ofSeconds(3), replyTo),
                        Duration.ofSeconds(5),
                        node.system().scheduler()));
            return stats.getRegions().size() == NODES;
          } catch (RuntimeException e) {
            return false;
          }
        });
  }

  static void awaitTrue(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + SETUP_TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }
}
