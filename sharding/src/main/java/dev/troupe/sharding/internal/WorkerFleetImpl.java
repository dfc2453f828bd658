package dev.troupe.sharding.internal;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.BroadcastResult;
import dev.troupe.sharding.FleetMetrics;
import dev.troupe.sharding.FleetSpec;
import dev.troupe.sharding.WorkerFleet;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

/** INTERNAL API. {@link WorkerFleet} on Pekko Cluster Sharding. */
public final class WorkerFleetImpl<M> implements WorkerFleet<M> {
  /*
   * Sharding: entity type "troupe-fleet-<name>" of Object messages (the protocol M plus Traced
   * envelopes), RingMessageExtractor (shard = ring partition of the key), RingAllocationStrategy,
   * Pekko's passivation off (FleetNode passivates), the stop message of the spec. Tells go through
   * the region in FleetEnvelopes, which FleetNode sends again when Pekko drops them at a hand-off;
   * asks go through EntityRefs (their timeout covers a lost message).
   *
   * broadcast: every key gets its own ask with a Traced envelope naming this node's FleetNode; a
   * worker that fails on it reports to FleetNode, which completes that key's future with
   * WorkerCrashedException before the ask times out. The futures live in `broadcasts`, keyed by
   * broadcast id and key, removed when they complete.
   *
   * Cluster-wide queries (activeCount, activeKeys, setPassivation) find the nodes that run the
   * fleet from the coordinator's shard statistics and ask their FleetNode actors by path.
   */
  private final FleetSpec<M> spec;
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final EntityTypeKey<Object> typeKey;
  private final ActorRef<FleetEnvelope> region;
  private final LocalWorkers workers;
  private final FleetMetrics metrics;
  private final FleetMeters meters;
  private final Map<String, CompletableFuture<Object>> broadcasts = new ConcurrentHashMap<>();
  private final ActorRef<FleetNode.Command> nodeActor;
  private final String nodeActorName;
  private final FleetSettings settings;

  private WorkerFleetImpl(TroupeNode node, FleetSpec<M> spec) {
    this.spec = spec;
    this.system = node.system();
    this.settings = FleetSettings.fromConfig(system.settings().config());
    this.sharding = ClusterSharding.get(system);
    this.typeKey = EntityTypeKey.create(Object.class, "troupe-fleet-" + spec.name());
    Duration idle = spec.idleTimeout().orElse(settings.idleTimeout());
    Duration jitter = spec.idleJitter().orElse(settings.idleJitter());
    LocalWorkers[] running = new LocalWorkers[1]; // the gauge reads it; set right below
    this.metrics =
        new FleetMetrics(
            spec.name(),
            spec.meterRegistry().orElseGet(() -> defaultRegistry(node)),
            () -> running[0] == null ? 0 : running[0].size());
    this.meters = new FleetMeters(metrics);
    this.workers = new LocalWorkers(idle.toNanos(), jitter.toNanos(), meters::spawned);
    running[0] = workers;
    Duration minBackoff = spec.minBackoff().orElse(settings.minBackoff());
    Duration maxBackoff = spec.maxBackoff().orElse(settings.maxBackoff());
    SupervisorStrategy backoff = SupervisorStrategy.restartWithBackoff(minBackoff, maxBackoff, 0.2);
    Address self = Cluster.get(system).selfMember().address();
    FleetFence fence = FleetFence.get(system);
    Entity<Object, FleetEnvelope> entity =
        Entity.of(
                typeKey,
                ctx ->
                    FleetWorker.create(
                        ctx.getEntityId(),
                        ctx.getShard(),
                        spec.protocol(),
                        spec.factory(),
                        backoff,
                        workers,
                        meters,
                        fence,
                        // Pekko's name of the shard's lease (Shard: <system>-shard-<type>-<id>)
                        system.name()
                            + "-shard-"
                            + typeKey.name()
                            + "-"
                            + RingMessageExtractor.shardOf(ctx.getEntityId(), spec.shards())))
            .withMessageExtractor(new RingMessageExtractor(spec.shards()))
            .withAllocationStrategy(
                new RingAllocationStrategy(self, spec.shards(), settings.rebalanceMaxShards()))
            .withSettings(
                shardingSettings(system, fence)
                    .withPassivationStrategy(
                        ClusterShardingSettings.PassivationStrategySettings$.MODULE$.disabled()));
    if (spec.stopMessage().isPresent()) {
      entity = entity.withStopMessage(spec.stopMessage().get());
    }
    if (spec.role().isPresent()) {
      entity = entity.withRole(spec.role().get());
    }
    this.region = sharding.init(entity);
    this.nodeActorName = "troupeFleet-" + spec.name();
    this.nodeActor =
        system.systemActorOf(
            FleetNode.create(
                workers,
                meters,
                broadcasts,
                typeKey,
                settings.sweepMin(),
                settings.sweepMax(),
                region,
                spec.name()),
            nodeActorName,
            Props.empty());
  }

  /**
   * Meters recorded locally (so that {@link FleetMetrics}' accessors count) and passed on to the
   * node's registry ({@link TroupeNode#meterRegistry()}, where every Troupe meter goes) and to
   * Micrometer's global registry (where fleet meters went before the node had a registry).
   */
  private static MeterRegistry defaultRegistry(TroupeNode node) {
    CompositeMeterRegistry registry = new CompositeMeterRegistry();
    registry.add(new SimpleMeterRegistry());
    registry.add(node.meterRegistry());
    registry.add(Metrics.globalRegistry);
    return registry;
  }

  /** Starts the fleet of {@code spec} on {@code node}, or returns the one already started. */
  @SuppressWarnings("unchecked")
  public static <M> WorkerFleet<M> start(TroupeNode node, FleetSpec<M> spec) {
    requireNonNull(node, "node");
    requireNonNull(spec, "spec");
    WorkerFleetImpl<?> fleet =
        FleetsExtension.get(node.system())
            .getOrStart(spec.name(), () -> new WorkerFleetImpl<>(node, spec));
    requireArgument(
        fleet.spec.protocol().equals(spec.protocol()),
        "fleet ["
            + spec.name()
            + "] already runs on this node with protocol ["
            + fleet.spec.protocol().getName()
            + "], not ["
            + spec.protocol().getName()
            + "]");
    return (WorkerFleet<M>) fleet;
  }

  @Override
  public FleetSpec<M> spec() {
    return spec;
  }

  @Override
  public FleetMetrics metrics() {
    return metrics;
  }

  /** What this fleet records into its metrics. */
  public FleetMeters meters() {
    return meters;
  }

  @Override
  public void tell(String key, M message) {
    checkMessage(key, message);
    region.tell(new FleetEnvelope(spec.name(), key, message, 0));
  }

  private void checkMessage(String key, M message) {
    requireNonBlank(key, "key");
    requireNonNull(message, "message");
    requireArgument(
        spec.protocol().isInstance(message),
        "fleet ["
            + spec.name()
            + "] takes ["
            + spec.protocol().getName()
            + "] messages, got ["
            + message.getClass().getName()
            + "]");
  }

  @Override
  public <R> CompletionStage<R> ask(
      String key, Function<ActorRef<R>, M> message, Duration timeout) {
    requireNonBlank(key, "key");
    requireNonNull(message, "message");
    requirePositive(timeout, "timeout");
    long start = System.nanoTime();
    CompletionStage<R> reply =
        sharding.entityRefFor(typeKey, key).<R>ask(replyTo -> message.apply(replyTo), timeout);
    // On the completing thread: Pekko's stage would run a plain whenComplete through the common
    // pool, which on a machine with fewer than 3 CPUs starts a thread per task (measured: 10x
    // slower asks).
    return reply.whenCompleteAsync(
        (r, e) -> meters.recordDispatch(System.nanoTime() - start), Runnable::run);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <R> CompletionStage<BroadcastResult<R>> broadcast(
      Map<String, Function<ActorRef<R>, M>> messages, Duration timeout) {
    requireNonNull(messages, "messages");
    requirePositive(timeout, "timeout");
    messages.forEach(
        (key, message) -> {
          requireNonBlank(key, "key");
          requireNonNull(message, "message of [" + key + "]");
        });
    String id = UUID.randomUUID().toString();
    Map<String, CompletableFuture<Object>> outcomes = new HashMap<>();
    messages.forEach(
        (key, message) -> {
          String slot = FleetNode.broadcastKey(id, key);
          CompletableFuture<Object> outcome = new CompletableFuture<>();
          broadcasts.put(slot, outcome);
          outcomes.put(key, outcome);
          sharding
              .entityRefFor(typeKey, key)
              .<R>ask(replyTo -> new Traced(message.apply(replyTo), id, key, nodeActor), timeout)
              .whenCompleteAsync(
                  (reply, failure) -> {
                    broadcasts.remove(slot);
                    if (failure == null) {
                      outcome.complete(reply);
                    } else {
                      outcome.completeExceptionally(failure);
                    }
                  },
                  Runnable::run);
        });
    return CompletableFuture.allOf(outcomes.values().toArray(new CompletableFuture<?>[0]))
        .handle(
            (all, ignored) -> {
              Map<String, R> replies = new HashMap<>();
              Map<String, Throwable> crashed = new HashMap<>();
              Set<String> timedOut = new HashSet<>();
              outcomes.forEach(
                  (key, outcome) -> {
                    try {
                      replies.put(key, (R) outcome.join());
                    } catch (CompletionException e) {
                      Throwable cause = e.getCause() == null ? e : e.getCause();
                      if (cause instanceof TimeoutException) {
                        timedOut.add(key);
                      } else {
                        crashed.put(key, cause);
                      }
                    }
                  });
              return new BroadcastResult<>(replies, crashed, timedOut);
            });
  }

  @Override
  public void publish(Map<String, M> messages) {
    requireNonNull(messages, "messages");
    messages.forEach(this::checkMessage);
    messages.forEach(
        (key, message) -> region.tell(new FleetEnvelope(spec.name(), key, message, 0)));
  }

  @Override
  public CompletionStage<Integer> activeCount() {
    return stats()
        .thenApply(
            stats ->
                stats.getRegions().values().stream()
                    .mapToInt(
                        r ->
                            r.getStats().values().stream()
                                .mapToInt(v -> ((Number) v).intValue())
                                .sum())
                    .sum());
  }

  private CompletionStage<ShardRegion.ClusterShardingStats> stats() {
    return AskPattern.ask(
        sharding.shardState(),
        replyTo -> new GetClusterShardingStats(typeKey, settings.queryTimeout(), replyTo),
        settings.queryTimeout().plusSeconds(1),
        system.scheduler());
  }

  /** The FleetNode actors of every node whose shard region the coordinator knows. */
  private CompletionStage<List<ActorRef<FleetNode.Command>>> nodeActors() {
    ActorRefResolver resolver = ActorRefResolver.get(system);
    Address self = Cluster.get(system).selfMember().address();
    return stats()
        .thenApply(
            stats -> {
              List<ActorRef<FleetNode.Command>> actors = new ArrayList<>();
              actors.add(nodeActor);
              for (Address node : stats.getRegions().keySet()) {
                if (!node.equals(self) && node.hasGlobalScope()) {
                  actors.add(resolver.resolveActorRef(node + "/system/" + nodeActorName));
                }
              }
              return actors;
            });
  }

  @Override
  public CompletionStage<Set<String>> activeKeys() {
    return nodeActors()
        .thenCompose(
            actors -> {
              List<CompletableFuture<FleetNode.Keys>> answers = new ArrayList<>();
              for (ActorRef<FleetNode.Command> actor : actors) {
                answers.add(
                    AskPattern.<FleetNode.Command, FleetNode.Keys>ask(
                            actor,
                            FleetNode.GetKeys::new,
                            settings.queryTimeout(),
                            system.scheduler())
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0]))
                  .thenApply(
                      done -> {
                        Set<String> keys = new HashSet<>();
                        answers.forEach(a -> keys.addAll(a.join().keys()));
                        return Set.copyOf(keys);
                      });
            });
  }

  @Override
  public CompletionStage<Integer> reconfigurePassivation(Duration idle, Duration jitter) {
    requireNonNegative(idle, "idle");
    requireNonNegative(jitter, "jitter");
    FleetNode.Passivation setting = new FleetNode.Passivation(idle.toMillis(), jitter.toMillis());
    // First into Distributed Data (for the nodes that start the fleet later), then to every node
    // that runs it now, each answering with its running workers.
    return AskPattern.<FleetNode.Command, Done>ask(
            nodeActor,
            replyTo -> new FleetNode.Publish(setting, replyTo),
            settings.queryTimeout().plusSeconds(4),
            system.scheduler())
        .thenCompose(
            written ->
                askAll(
                    replyTo ->
                        new FleetNode.SetPassivation(
                            setting.idleMillis(), setting.jitterMillis(), replyTo.narrow())))
        .thenApply(
            answers ->
                answers.values().stream()
                    .mapToInt(a -> ((FleetNode.Reconfigured) a).workers())
                    .sum());
  }

  @Override
  public CompletionStage<Optional<Address>> whereis(String key) {
    requireNonBlank(key, "key");
    return askAll(replyTo -> new FleetNode.Where(key, replyTo.narrow()))
        .thenApply(
            answers ->
                answers.entrySet().stream()
                    .filter(a -> ((FleetNode.Here) a.getValue()).running())
                    .map(Map.Entry::getKey)
                    .findFirst());
  }

  @Override
  public CompletionStage<Boolean> stop(String key) {
    requireNonBlank(key, "key");
    return askAll(replyTo -> new FleetNode.StopWorker(key, replyTo.narrow()))
        .thenApply(
            answers ->
                answers.values().stream().anyMatch(a -> ((FleetNode.Stopped) a).wasRunning()));
  }

  /**
   * Asks the FleetNode of every node that runs the fleet; completes with each node's answer by its
   * address, or fails if one does not answer within the query timeout.
   */
  private CompletionStage<Map<Address, Object>> askAll(
      Function<ActorRef<Object>, FleetNode.Command> question) {
    Address self = Cluster.get(system).selfMember().address();
    return nodeActors()
        .thenCompose(
            actors -> {
              Map<Address, CompletableFuture<Object>> answers = new LinkedHashMap<>();
              for (ActorRef<FleetNode.Command> actor : actors) {
                Address where =
                    actor.path().address().hasGlobalScope() ? actor.path().address() : self;
                answers.put(
                    where,
                    AskPattern.<FleetNode.Command, Object>ask(
                            actor,
                            replyTo -> question.apply(replyTo),
                            settings.queryTimeout(),
                            system.scheduler())
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(answers.values().toArray(new CompletableFuture<?>[0]))
                  .thenApply(
                      done -> {
                        Map<Address, Object> result = new LinkedHashMap<>();
                        answers.forEach((node, answer) -> result.put(node, answer.join()));
                        return result;
                      });
            });
  }

  /** This node's running workers; for the reconciler. */
  public LocalWorkers localWorkers() {
    return workers;
  }

  /** Whether a worker for {@code key} runs on this node. */
  public boolean isRunningHere(String key) {
    return workers.isRunning(key);
  }

  /**
   * Pekko's sharding settings of {@code system}, with a lease per shard ({@link FleetLease}) when
   * the single-writer fence is on: a shard starts its workers only under its lease, and Pekko stops
   * it when the lease is lost.
   */
  private static ClusterShardingSettings shardingSettings(ActorSystem<?> system, FleetFence fence) {
    Config sharding = system.settings().config().getConfig("pekko.cluster.sharding");
    if (fence.settings().enabled()) {
      sharding =
          sharding
              .withValue("use-lease", ConfigValueFactory.fromAnyRef("troupe.sharding.fleet-lease"))
              .withValue(
                  "lease-retry-interval",
                  ConfigValueFactory.fromAnyRef(
                      fence.settings().renewInterval().toMillis() + "ms"));
    }
    return ClusterShardingSettings.fromConfig(sharding);
  }
}
