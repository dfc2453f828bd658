package dev.troupe.sharding;

import static dev.troupe.core.Preconditions.requireArgument;
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
 * Heals a fleet both ways, periodically and in bounded rounds: compares the keys that should have a
 * worker (from the repository, or from a {@link DesiredKeys} source), the workers that run and the
 * read cache; starts the missing workers, retires those whose key is no longer desired, warms the
 * cache for desired hot keys and drops cache entries older than the repository. The reconciler of
 * Elixir's Registry + DynamicSupervisor + ETS + Repo pattern.
 *
 * <pre>{@code
 * Reconciler<Room, Room.Command> reconciler =
 *     Reconciler.builder(rooms, roomRepository)
 *         .activeWhen(room -> room.open())           // which stored keys should have a worker
 *         .wakeWith(key -> new Room.Wake())          // the message that starts one
 *         .retire(RetireMode.PASSIVATE)              // optional: stop the workers of closed rooms
 *         .cache(roomCache)                          // optional: repair stale entries ...
 *         .warmHottest(100)                          // ... and keep the 100 most read cached
 *         .start(node);                              // on every node of the fleet
 * }</pre>
 *
 * <p><b>What a round does</b>, on each node:
 *
 * <ul>
 *   <li>reads the next {@code budget} desired keys: of those the node owns on the ring ({@code
 *       pickNode(key)} is the node), each that has no worker here gets the {@code wakeWith}
 *       message, which starts one; each that passes {@code warmWhen} and is not in this node's
 *       cache is loaded into it (every node has its own cache, so ownership does not matter here);
 *   <li>with {@code retire} not {@link RetireMode#OFF}: reads the next {@code budget} workers that
 *       run on this node and retires each whose key is not desired;
 *   <li>with a {@code cache}: checks the next {@code budget} entries of this node's cache and drops
 *       (everywhere) each that is older than the repository or whose key is gone;
 *   <li>with {@code warmHottest(n)}: loads the {@code n} keys read most on this node recently
 *       ({@link ReadCache#hotKeys}) that are desired and not cached now.
 * </ul>
 *
 * <p>A key is <i>desired</i> if the repository holds it and its value passes {@code activeWhen}
 * (every stored key when there is no {@code activeWhen}), or, with {@link Builder#desired}, if the
 * source says so. A key whose desiredness cannot be read is never retired: a storage error ends the
 * round where it is, and the next round starts there; a value that cannot be read as the
 * repository's type, or on which {@code activeWhen} throws, is left alone with a warning.
 *
 * <p><b>When.</b> Every {@code interval}, soon ({@code
 * troupe.sharding.reconciler.membership-delay}) after the set of Up and reachable members changes
 * (a node joined, left, crashed or came back: the ring moved keys), and on {@link #runOnce}.
 *
 * <p><b>Bounds.</b> Each walk (desired keys, running workers, cache entries) reads at most {@code
 * budget} keys per round from a cursor of its own, and wraps around to the first key after the
 * last. A round also stops when its {@code timeLimit} is up (checked before each key, never before
 * the round's first, so every round moves on); it is then {@linkplain Round#cutShort() cut short},
 * and the next round goes on from the last key it handled. The time limit bounds the reads that
 * decide; carrying out the fixes comes after (messages, and one load per warmed key) and counts in
 * the round's {@link Round#duration()}. The nodes share the work without coordination.
 *
 * <p><b>Observing it.</b> {@link #runOnce()} and {@link #lastRound()} report a {@link Round}; the
 * fleet's {@link FleetMetrics} count fixes in {@code troupe.fleet.reconciler.fixes} (tag {@code
 * fix}: {@code worker-started}, {@code worker-retired}, {@code cache-warmed}, {@code
 * cache-dropped}) and time rounds in {@code troupe.fleet.reconciler.round}; a round that fixed
 * anything is logged at INFO. Defaults: {@code troupe.sharding.reconciler}.
 *
 * @param <V> the repository's value type
 * @param <M> the fleet's protocol
 * @since 0.1.0
 */
public final class Reconciler<V, M> {
  /**
   * What one round found and fixed on this node.
   *
   * @param at when the round started
   * @param scanned the desired keys it read
   * @param owned of those, the keys this node owns on the ring
   * @param workersStarted workers it sent the wake message to
   * @param workersRetired workers it passivated or stopped ({@link RetireMode})
   * @param cacheEntriesWarmed keys it loaded into this node's cache
   * @param cacheEntriesDropped cache entries it dropped as older than the repository
   * @param cutShort whether it stopped before the end of its work, on its time limit or on a
   *     storage error (logged); the next round goes on from there
   * @param duration how long it took, fixes included
   */
  public record Round(
      Instant at,
      int scanned,
      int owned,
      int workersStarted,
      int workersRetired,
      int cacheEntriesWarmed,
      int cacheEntriesDropped,
      boolean cutShort,
      Duration duration) {

    /**
     * A round that only started workers and dropped cache entries (the fields of 0.1): nothing
     * retired or warmed, not cut short, of no recorded duration.
     */
    public Round(Instant at, int scanned, int owned, int workersStarted, int cacheEntriesDropped) {
      this(at, scanned, owned, workersStarted, 0, 0, cacheEntriesDropped, false, Duration.ZERO);
    }

    /** Whether the round fixed anything: started, retired, warmed or dropped. */
    public boolean fixedAnything() {
      return workersStarted > 0
          || workersRetired > 0
          || cacheEntriesWarmed > 0
          || cacheEntriesDropped > 0;
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

  /**
   * Runs a round now (besides the periodic ones) and returns what it did. It continues from where
   * the last round stopped, as a periodic round would.
   */
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

  /**
   * Builder of a {@link Reconciler}. Options are checked as they are set and together by {@link
   * #start}.
   */
  public static final class Builder<V, M> {
    private final WorkerFleet<M> fleet;
    private final Repository<V> repository;
    private Predicate<V> activeWhen;
    private DesiredKeys desired;
    private Function<String, M> wake;
    private ReadCache<V> cache;
    private RetireMode retire = RetireMode.OFF;
    private Predicate<String> warmWhen;
    private int warmHottest;
    private Duration interval;
    private Integer budget;
    private Duration timeLimit;

    private Builder(WorkerFleet<M> fleet, Repository<V> repository) {
      this.fleet = fleet;
      this.repository = repository;
    }

    /**
     * Which stored values should have a running worker; without it (and without {@link #desired})
     * every stored key is desired, but no worker is started. Goes with {@link #wakeWith}.
     *
     * @throws IllegalArgumentException if {@code predicate} is null
     */
    public Builder<V, M> activeWhen(Predicate<V> predicate) {
      this.activeWhen = requireNonNull(predicate, "activeWhen");
      return this;
    }

    /**
     * Takes the desired keys from {@code source} instead of the repository's values; the repository
     * is still the one whose values the cache holds. Needs {@link #wakeWith}; excludes {@link
     * #activeWhen}.
     *
     * @throws IllegalArgumentException if {@code source} is null
     * @since 0.3.0
     */
    public Builder<V, M> desired(DesiredKeys source) {
      this.desired = requireNonNull(source, "desired");
      return this;
    }

    /**
     * The message that starts the worker of a key (it should be harmless to a running one).
     *
     * @throws IllegalArgumentException if {@code message} is null
     */
    public Builder<V, M> wakeWith(Function<String, M> message) {
      this.wake = requireNonNull(message, "wakeWith");
      return this;
    }

    /**
     * This node's cache of the repository, to repair (entries older than the repository are
     * dropped) and to warm; without it caches are neither checked nor warmed.
     *
     * @throws IllegalArgumentException if {@code readCache} is null
     */
    public Builder<V, M> cache(ReadCache<V> readCache) {
      this.cache = requireNonNull(readCache, "cache");
      return this;
    }

    /**
     * What to do with a running worker whose key is not desired; default {@link RetireMode#OFF}.
     *
     * @throws IllegalArgumentException if {@code mode} is null
     * @since 0.3.0
     */
    public Builder<V, M> retire(RetireMode mode) {
      this.retire = requireNonNull(mode, "retire");
      return this;
    }

    /**
     * Loads into this node's cache each desired key a round reads that passes {@code hotKey} and is
     * not cached (on every node, owned or not: each has its own cache). Needs {@link #cache}. A
     * predicate that throws warms nothing for that key.
     *
     * @throws IllegalArgumentException if {@code hotKey} is null
     * @since 0.3.0
     */
    public Builder<V, M> warmWhen(Predicate<String> hotKey) {
      this.warmWhen = requireNonNull(hotKey, "warmWhen");
      return this;
    }

    /**
     * Every round, loads into this node's cache those of the {@code n} keys read most on this node
     * recently ({@link ReadCache#hotKeys}) that are desired and not cached: the hot set stays warm
     * after an invalidation or expiry. Needs {@link #cache}.
     *
     * @throws IllegalArgumentException if {@code n} is not in {@code [1, }{@value
     *     ReadCache#HOT_KEYS_TRACKED}{@code ]}
     * @since 0.3.0
     */
    public Builder<V, M> warmHottest(int n) {
      this.warmHottest = requireRange(n, 1, ReadCache.HOT_KEYS_TRACKED, "warmHottest");
      return this;
    }

    /**
     * Time between rounds; default {@code troupe.sharding.reconciler.interval}.
     *
     * @throws IllegalArgumentException if {@code every} is null or not positive
     */
    public Builder<V, M> interval(Duration every) {
      this.interval = requirePositive(every, "interval");
      return this;
    }

    /**
     * Keys read per round by each walk (desired keys, running workers, cache entries); default
     * {@code troupe.sharding.reconciler.budget}.
     *
     * @throws IllegalArgumentException if {@code keys} is not in {@code [1, 1000000]}
     */
    public Builder<V, M> budget(int keys) {
      this.budget = requireRange(keys, 1, 1_000_000, "budget");
      return this;
    }

    /**
     * How long a round may read before it stops (after its first key); the next round goes on from
     * there. Default {@code troupe.sharding.reconciler.time-limit}.
     *
     * @throws IllegalArgumentException if {@code limit} is null or not positive
     * @since 0.3.0
     */
    public Builder<V, M> timeLimit(Duration limit) {
      this.timeLimit = requirePositive(limit, "timeLimit");
      return this;
    }

    /**
     * Starts the reconciler on {@code node} (call it on every node of the fleet).
     *
     * @throws IllegalArgumentException if {@code node} is null; {@code activeWhen} is set without
     *     {@code wakeWith} or the other way round; {@code desired} is set with {@code activeWhen}
     *     or without {@code wakeWith}; {@code warmWhen} or {@code warmHottest} is set without
     *     {@code cache}; the cache is of another repository; or a {@code
     *     troupe.sharding.reconciler} setting is invalid (the message names the key)
     */
    public Reconciler<V, M> start(TroupeNode node) {
      requireNonNull(node, "node");
      if (desired != null) {
        requireArgument(
            activeWhen == null,
            "Reconciler: desired(..) and activeWhen(..) exclude each other; the source decides");
        requireArgument(
            wake != null, "Reconciler: desired(..) needs wakeWith(..), the message that starts");
      } else if ((activeWhen == null) != (wake == null)) {
        throw new IllegalArgumentException(
            "Reconciler: activeWhen and wakeWith go together; set both or neither");
      }
      requireArgument(
          cache != null || (warmWhen == null && warmHottest == 0),
          "Reconciler: warmWhen(..) and warmHottest(..) need cache(..)");
      requireArgument(
          cache == null || cache.name().equals(repository.name()),
          "Reconciler: the cache is of repository ["
              + (cache == null ? "" : cache.name())
              + "], not ["
              + repository.name()
              + "]");
      Config config = node.system().settings().config().getConfig("troupe.sharding.reconciler");
      Duration every = interval != null ? interval : config.getDuration("interval");
      int keys = budget != null ? budget : config.getInt("budget");
      Duration limit = timeLimit != null ? timeLimit : config.getDuration("time-limit");
      Duration settle = config.getDuration("membership-delay");
      requirePositive(every, "troupe.sharding.reconciler.interval");
      requireRange(keys, 1, 1_000_000, "troupe.sharding.reconciler.budget");
      requirePositive(limit, "troupe.sharding.reconciler.time-limit");
      requirePositive(settle, "troupe.sharding.reconciler.membership-delay");
      ActorRef<ReconcilerActor.Command> actor =
          node.system()
              .systemActorOf(
                  ReconcilerActor.create(
                      new ReconcilerActor.Setup<>(
                          node,
                          (WorkerFleetImpl<M>) fleet,
                          repository,
                          Optional.ofNullable(activeWhen),
                          Optional.ofNullable(desired),
                          Optional.ofNullable(wake),
                          Optional.ofNullable(cache),
                          retire,
                          Optional.ofNullable(warmWhen),
                          warmHottest,
                          every,
                          keys,
                          limit,
                          settle)),
                  "troupeReconciler-" + fleet.spec().name() + "-" + repository.name(),
                  DispatcherSelector.blocking());
      return new Reconciler<>(actor, node, Duration.ofSeconds(60));
    }
  }
}
