package dev.troupe.sharding.internal;

import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.ReadCache;
import dev.troupe.sharding.Reconciler;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.Versioned;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * INTERNAL API. Runs {@link Reconciler} rounds on one node, on the blocking dispatcher (rounds read
 * the repository).
 */
public final class ReconcilerActor<V, M> extends AbstractBehavior<ReconcilerActor.Command> {
  /*
   * A round: read the next `budget` keys after the cursor (wrapping to the start at the end), keep
   * those this node owns on the ring, and for each: load it; if it should run (activeWhen) and no
   * worker runs here, send the wake message through the fleet (which starts it on its node - this
   * one, by ownership). Then check up to `budget` entries of this node's cache: an entry older than
   * the repository (or whose key is gone) is dropped everywhere. Caches are checked by every node
   * for its own entries, since each node has its own. Workers are checked on this node only, which is right because a key's worker and
   * its reconciliation are placed by the same ring. A round that fails (database down) is logged
   * and the next one retries from the same cursor.
   */

  /** The protocol of the reconciler actor. */
  public sealed interface Command {}

  /** Runs a round now and replies with it. */
  public record RunOnce(ActorRef<Reconciler.Round> replyTo) implements Command {}

  /** Replies with the last round. */
  public record GetLastRound(ActorRef<Optional<Reconciler.Round>> replyTo) implements Command {}

  /** Stops the reconciler. */
  public enum Stop implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  private final TroupeNode node;
  private final WorkerFleetImpl<M> fleet;
  private final Repository<V> repository;
  private final Optional<Predicate<V>> activeWhen;
  private final Optional<Function<String, M>> wake;
  private final Optional<ReadCache<V>> cache;
  private final int budget;
  private String cursor;
  private Reconciler.Round last;

  private ReconcilerActor(
      ActorContext<Command> ctx,
      TroupeNode node,
      WorkerFleetImpl<M> fleet,
      Repository<V> repository,
      Optional<Predicate<V>> activeWhen,
      Optional<Function<String, M>> wake,
      Optional<ReadCache<V>> cache,
      int budget) {
    super(ctx);
    this.node = node;
    this.fleet = fleet;
    this.repository = repository;
    this.activeWhen = activeWhen;
    this.wake = wake;
    this.cache = cache;
    this.budget = budget;
  }

  /** The reconciler of one fleet and repository on one node. */
  public static <V, M> Behavior<Command> create(
      TroupeNode node,
      WorkerFleetImpl<M> fleet,
      Repository<V> repository,
      Optional<Predicate<V>> activeWhen,
      Optional<Function<String, M>> wake,
      Optional<ReadCache<V>> cache,
      Duration interval,
      int budget) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
                  return new ReconcilerActor<>(
                      ctx, node, fleet, repository, activeWhen, wake, cache, budget);
                }));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(RunOnce.class, this::onRunOnce)
        .onMessage(GetLastRound.class, this::onGetLastRound)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onTick() {
    round();
    return this;
  }

  private Behavior<Command> onRunOnce(RunOnce cmd) {
    cmd.replyTo().tell(round());
    return this;
  }

  private Behavior<Command> onGetLastRound(GetLastRound cmd) {
    cmd.replyTo().tell(Optional.ofNullable(last));
    return this;
  }

  /**
   * Drops this node's cache entries that are older than the repository (an invalidation this node
   * missed, or a write that bypassed the cache), at most {@code budget} of them per round.
   */
  private int repairCache(ReadCache<V> readCache) {
    int dropped = 0;
    for (String key : readCache.cachedKeys(budget)) {
      Optional<Versioned<V>> cached = readCache.peek(key);
      if (cached.isEmpty()) {
        continue;
      }
      Optional<Versioned<V>> stored = repository.load(key);
      if (stored.isEmpty() || cached.get().version() < stored.get().version()) {
        readCache.invalidate(key);
        fleet.meters().fixed("cache-dropped");
        dropped++;
      }
    }
    return dropped;
  }

  private Reconciler.Round round() {
    int scanned = 0;
    int owned = 0;
    int started = 0;
    int dropped = 0;
    Address self = node.address();
    try {
      List<String> keys = repository.keysAfter(cursor, budget);
      if (keys.size() < budget) {
        cursor = null; // the end: start over next round
      } else {
        cursor = keys.get(keys.size() - 1);
      }
      for (String key : keys) {
        scanned++;
        if (!self.equals(node.addressBook().pickNode(key))) {
          continue;
        }
        owned++;
        Optional<Versioned<V>> stored = repository.load(key);
        if (stored.isEmpty()) {
          continue;
        }
        if (activeWhen.isPresent()
            && activeWhen.get().test(stored.get().value())
            && !fleet.isRunningHere(key)) {
          fleet.tell(key, wake.get().apply(key));
          fleet.meters().fixed("worker-started");
          started++;
        }
      }
      if (cache.isPresent()) {
        dropped = repairCache(cache.get());
      }
    } catch (RuntimeException e) {
      getContext()
          .getLog()
          .warn(
              "Reconciler of fleet [{}] / repository [{}]: round failed; the next one retries: {}",
              fleet.spec().name(),
              repository.name(),
              e.toString());
    }
    last = new Reconciler.Round(Instant.now(), scanned, owned, started, dropped);
    if (last.fixedAnything()) {
      getContext()
          .getLog()
          .info(
              "Reconciler of fleet [{}]: started {} worker(s), dropped {} stale cache entr(ies)",
              fleet.spec().name(),
              started,
              dropped);
    }
    return last;
  }
}
