package dev.troupe.sharding;

import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.internal.ReconcilerActor;
import dev.troupe.sharding.internal.WorkerFleetImpl;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Heals a fleet against its repository, periodically and in bounded rounds: starts the workers of
 * keys that the repository says should run but that do not, and drops cache entries older than the
 * repository. The reconciler of Elixir's Registry + DynamicSupervisor + Repo pattern.
 *
 * <pre>{@code
 * Reconciler<Room, Room.Command> reconciler =
 *     Reconciler.builder(rooms, roomRepository)
 *         .activeWhen(room -> room.open())           // which stored keys should have a worker
 *         .wakeWith(key -> new Room.Wake())          // the message that starts one
 *         .cache(roomCache)                          // optional: repair stale entries
 *         .start(node);                              // on every node of the fleet
 * }</pre>
 *
 * <p>Each node reconciles only the keys it owns on the ring ({@code pickNode(key)} is the node), so
 * the nodes share the work without coordination; each round reads at most {@code budget} keys,
 * continuing where the previous round stopped and wrapping around at the end. Defaults: {@code
 * troupe.sharding.reconciler}. Fixes are counted in {@code troupe.fleet.reconciler.fixes}.
 *
 * @param <V> the repository's value type
 * @param <M> the fleet's protocol
 * @since 0.1.0
 */
public final class Reconciler<V, M> {
  /** What one round found and fixed on this node. */
  public record Round(
      Instant at, int scanned, int owned, int workersStarted, int cacheEntriesDropped) {

    /** Whether the round fixed anything. */
    public boolean fixedAnything() {
      return workersStarted > 0 || cacheEntriesDropped > 0;
    }
  }

  private final ActorRef<ReconcilerActor.Command> actor;
  private final TroupeNode node;
  private final Duration askTimeout;

  private Reconciler(ActorRef<ReconcilerActor.Command> actor, TroupeNode node, Duration timeout) {
    this.actor = actor;
    this.node = node;
    this.askTimeout = timeout;
  }

  /**
   * A builder for the reconciler of {@code fleet} against {@code repository}.
   *
   * @throws IllegalArgumentException if an argument is null
   */
  public static <V, M> Builder<V, M> builder(WorkerFleet<M> fleet, Repository<V> repository) {
    requireNonNull(fleet, "fleet");
    requireNonNull(repository, "repository");
    return new Builder<>(fleet, repository);
  }

  /** Runs a round now (besides the periodic ones) and returns what it did. */
  public CompletionStage<Round> runOnce() {
    return AskPattern.ask(
        actor, ReconcilerActor.RunOnce::new, askTimeout, node.system().scheduler());
  }

  /** The last finished round; empty before the first. */
  public CompletionStage<Optional<Round>> lastRound() {
    return AskPattern.ask(
        actor, ReconcilerActor.GetLastRound::new, askTimeout, node.system().scheduler());
  }

  /** Stops the reconciler on this node. */
  public void stop() {
    actor.tell(ReconcilerActor.Stop.INSTANCE);
  }

  /** Builder of a {@link Reconciler}. */
  public static final class Builder<V, M> {
    private final WorkerFleet<M> fleet;
    private final Repository<V> repository;
    private Predicate<V> activeWhen;
    private Function<String, M> wake;
    private ReadCache<V> cache;
    private Duration interval;
    private Integer budget;

    private Builder(WorkerFleet<M> fleet, Repository<V> repository) {
      this.fleet = fleet;
      this.repository = repository;
    }

    /** Which stored values should have a running worker; without it no worker is started. */
    public Builder<V, M> activeWhen(Predicate<V> predicate) {
      this.activeWhen = requireNonNull(predicate, "activeWhen");
      return this;
    }

    /** The message that starts the worker of a key (it should be harmless to a running one). */
    public Builder<V, M> wakeWith(Function<String, M> message) {
      this.wake = requireNonNull(message, "wakeWith");
      return this;
    }

    /** The cache to repair; without it caches are not checked. */
    public Builder<V, M> cache(ReadCache<V> readCache) {
      this.cache = requireNonNull(readCache, "cache");
      return this;
    }

    /** Time between rounds; default {@code troupe.sharding.reconciler.interval}. */
    public Builder<V, M> interval(Duration every) {
      this.interval = requirePositive(every, "interval");
      return this;
    }

    /** Keys read per round; default {@code troupe.sharding.reconciler.budget}. */
    public Builder<V, M> budget(int keys) {
      this.budget = requireRange(keys, 1, 1_000_000, "budget");
      return this;
    }

    /**
     * Starts the reconciler on {@code node} (call it on every node of the fleet).
     *
     * @throws IllegalArgumentException if {@code node} is null, or {@code activeWhen} is set
     *     without {@code wakeWith} or the other way round
     */
    public Reconciler<V, M> start(TroupeNode node) {
      requireNonNull(node, "node");
      if ((activeWhen == null) != (wake == null)) {
        throw new IllegalArgumentException(
            "Reconciler: activeWhen and wakeWith go together; set both or neither");
      }
      Config config = node.system().settings().config().getConfig("troupe.sharding.reconciler");
      Duration every = interval != null ? interval : config.getDuration("interval");
      int keys = budget != null ? budget : config.getInt("budget");
      requirePositive(every, "troupe.sharding.reconciler.interval");
      requireRange(keys, 1, 1_000_000, "troupe.sharding.reconciler.budget");
      ActorRef<ReconcilerActor.Command> actor =
          node.system()
              .systemActorOf(
                  ReconcilerActor.create(
                      node,
                      (WorkerFleetImpl<M>) fleet,
                      repository,
                      Optional.ofNullable(activeWhen),
                      Optional.ofNullable(wake),
                      Optional.ofNullable(cache),
                      every,
                      keys),
                  "troupeReconciler-" + fleet.spec().name() + "-" + repository.name(),
                  DispatcherSelector.blocking());
      return new Reconciler<>(actor, node, Duration.ofSeconds(60));
    }
  }
}
