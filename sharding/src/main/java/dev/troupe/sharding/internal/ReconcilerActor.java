package dev.troupe.sharding.internal;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.storage.StorageException;
import dev.troupe.sharding.DesiredKeys;
import dev.troupe.sharding.ReadCache;
import dev.troupe.sharding.Reconciler;
import dev.troupe.sharding.Repository;
import dev.troupe.sharding.RetireMode;
import dev.troupe.sharding.Versioned;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.typed.Unsubscribe;

/**
 * INTERNAL API. Runs {@link Reconciler} rounds on one node, on the blocking dispatcher (rounds read
 * the repository): gathers what {@link ReconcileRound} reads and carries out what it decides.
 */
public final class ReconcilerActor<V, M> extends AbstractBehavior<ReconcilerActor.Command> {
  /*
   * When: every `interval` (fixed delay), on RunOnce, and `membership-delay` after the set of Up
   * and reachable members changed (the nodes the ring is made of, as the address book counts
   * them). Membership is followed from cluster events against the state seen at start, so the
   * events replayed on subscribing change nothing; changes within the delay share one round, and
   * the round runs after the delay, when the address book has most likely seen the change too (if
   * not, the next round fixes what this one missed).
   *
   * A round: ReconcileRound decides from this node's view (its cursors carried from round to round)
   * what to start, retire, warm and drop; then this actor does it. Starting is the wake message
   * through the fleet (which starts the worker on its node: this one, by ownership). Retiring
   * is PASSIVATE - the shard's Passivate, as FleetNode's idle sweep does, so the stop message is
   * the worker's last - or STOP - FleetWorker.Retire to the worker itself, which stops at once.
   * Dropping is cache.invalidate (everywhere: another node's copy is as stale). Warming is
   * cache.warm, one load per key. Each node starts only the keys it owns (a key's worker and its
   * reconciliation are placed by the same ring), retires only the workers that run on it (owned or
   * not: a shard not yet moved), warms every scanned key and checks its own cache entries, since
   * each node has its own cache.
   *
   * Desiredness: from a DesiredKeys source, or from the repository: stored and passing activeWhen
   * (every stored key when there is no activeWhen). A value that cannot be read as the
   * repository's type, or on which activeWhen throws, is UNKNOWN: never retired or started, with a
   * warning. Any other exception of a read - a storage error, an error of a DesiredKeys source, a
   * node not Up yet for pickNode - ends the round where it was (logged); the next one starts there. Carrying out a warm that fails on storage stops the warming and
   * marks the round cut short. Anything else (a wake function that throws) is a bug: the actor
   * fails and is restarted, with fresh cursors.
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

  private enum MembershipSettled implements Command {
    INSTANCE
  }

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  /**
   * What a reconciler does, as its builder set it up.
   *
   * @param desired the source of desired keys; empty: the repository's keys and activeWhen
   * @param warmHottest how many of the most read keys to keep cached; 0: none
   */
  public record Setup<V, M>(
      TroupeNode node,
      WorkerFleetImpl<M> fleet,
      Repository<V> repository,
      Optional<Predicate<V>> activeWhen,
      Optional<DesiredKeys> desired,
      Optional<Function<String, M>> wake,
      Optional<ReadCache<V>> cache,
      RetireMode retire,
      Optional<Predicate<String>> warmWhen,
      int warmHottest,
      Duration interval,
      int budget,
      Duration timeLimit,
      Duration membershipDelay) {}

  private final Setup<V, M> setup;
  private final TimerScheduler<Command> timers;
  private final Clock clock;
  private final Address self;
  private final ReconcileRound.Rules rules;
  private final ReconcileRound.View view = new Reads();
  private final Map<Address, MemberStatus> members = new HashMap<>();
  private final Set<Address> unreachable = new HashSet<>();
  private final ActorRef<ClusterEvent.MemberEvent> memberEvents;
  private final ActorRef<ClusterEvent.ReachabilityEvent> reachabilityEvents;
  private Set<Address> available;
  private ReconcileRound.Cursors cursors = ReconcileRound.Cursors.START;
  private Reconciler.Round last;

  private ReconcilerActor(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Setup<V, M> setup, Clock clock) {
    super(ctx);
    ctx.setLoggerName(ReconcilerActor.class);
    this.setup = setup;
    this.timers = timers;
    this.clock = clock;
    this.self = setup.node().address();
    this.rules =
        new ReconcileRound.Rules(
            setup.budget(),
            setup.timeLimit().toNanos(),
            setup.wake().isPresent(),
            setup.retire() != RetireMode.OFF,
            setup.warmWhen().map(this::guarded).orElse(null),
            setup.warmHottest(),
            setup.cache().isPresent());
    Cluster cluster = Cluster.get(ctx.getSystem());
    cluster.state().getMembers().forEach(m -> members.put(m.address(), m.status()));
    cluster.state().getUnreachable().forEach(m -> unreachable.add(m.address()));
    this.available = available();
    this.memberEvents = ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new);
    this.reachabilityEvents =
        ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new);
    cluster.subscriptions().tell(Subscribe.create(memberEvents, ClusterEvent.MemberEvent.class));
    cluster
        .subscriptions()
        .tell(Subscribe.create(reachabilityEvents, ClusterEvent.ReachabilityEvent.class));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, setup.interval());
  }

  /** The reconciler of one fleet and repository on one node; restarted if it fails. */
  public static <V, M> Behavior<Command> create(Setup<V, M> setup) {
    return Behaviors.supervise(
            Behaviors.<Command>setup(
                ctx ->
                    Behaviors.withTimers(
                        timers -> new ReconcilerActor<>(ctx, timers, setup, Clock.systemUTC()))))
        .onFailure(SupervisorStrategy.restart());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(RunOnce.class, this::onRunOnce)
        .onMessage(GetLastRound.class, this::onGetLastRound)
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(ReachabilityChanged.class, this::onReachabilityChanged)
        .onMessageEquals(MembershipSettled.INSTANCE, this::onMembershipSettled)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .onSignal(PostStop.class, this::onPostStop)
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

  private Behavior<Command> onMemberChanged(MemberChanged msg) {
    Member member = msg.event().member();
    if (msg.event() instanceof ClusterEvent.MemberRemoved) {
      members.remove(member.address());
    } else {
      members.put(member.address(), member.status());
    }
    membershipMayHaveChanged();
    return this;
  }

  private Behavior<Command> onReachabilityChanged(ReachabilityChanged msg) {
    if (msg.event() instanceof ClusterEvent.UnreachableMember) {
      unreachable.add(msg.event().member().address());
    } else {
      unreachable.remove(msg.event().member().address());
    }
    membershipMayHaveChanged();
    return this;
  }

  /** Schedules a round if the ring's nodes changed; changes until it runs share it. */
  private void membershipMayHaveChanged() {
    Set<Address> now = available();
    if (now.equals(available)) {
      return;
    }
    available = now;
    if (!timers.isTimerActive(MembershipSettled.INSTANCE)) {
      timers.startSingleTimer(MembershipSettled.INSTANCE, setup.membershipDelay());
    }
  }

  private Behavior<Command> onMembershipSettled() {
    getContext()
        .getLog()
        .debug(
            "Reconciler of fleet [{}]: a round after a membership change ({} nodes)",
            setup.fleet().spec().name(),
            available.size());
    round();
    return this;
  }

  private Behavior<Command> onPostStop(PostStop signal) {
    Cluster cluster = Cluster.get(getContext().getSystem());
    cluster.subscriptions().tell(new Unsubscribe<>(memberEvents));
    cluster.subscriptions().tell(new Unsubscribe<>(reachabilityEvents));
    return this;
  }

  /** The Up and reachable members: the nodes of the ring. */
  private Set<Address> available() {
    Set<Address> up = new HashSet<>();
    members.forEach(
        (address, status) -> {
          if (status.equals(MemberStatus.up()) && !unreachable.contains(address)) {
            up.add(address);
          }
        });
    return up;
  }

  private Reconciler.Round round() {
    Instant at = clock.instant();
    long begin = System.nanoTime();
    ReconcileRound.Decisions decisions =
        ReconcileRound.decide(view, rules, cursors, System::nanoTime);
    cursors = decisions.next();
    if (decisions.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "Reconciler of fleet [{}] / repository [{}]: round stopped; the next one goes on"
                  + " from there: {}",
              setup.fleet().spec().name(),
              setup.repository().name(),
              decisions.failure().toString());
    }
    int started = start(decisions.starts());
    int retired = retire(decisions.retires());
    int dropped = drop(decisions.drops());
    int warmed = 0;
    boolean warmingStopped = false;
    for (String key : decisions.warms()) {
      try {
        if (setup.cache().get().warm(key)) {
          warmed++;
        }
      } catch (StorageException e) {
        getContext()
            .getLog()
            .warn(
                "Reconciler of fleet [{}]: warming stopped; the next rounds warm again: {}",
                setup.fleet().spec().name(),
                e.toString());
        warmingStopped = true;
        break;
      } catch (IllegalArgumentException e) {
        getContext()
            .getLog()
            .warn(
                "Reconciler of fleet [{}]: cannot warm [{}]: {}",
                setup.fleet().spec().name(),
                key,
                e.getMessage());
      }
    }
    long nanos = System.nanoTime() - begin;
    FleetMeters meters = setup.fleet().meters();
    meters.fixed("worker-started", started);
    meters.fixed("worker-retired", retired);
    meters.fixed("cache-warmed", warmed);
    meters.fixed("cache-dropped", dropped);
    meters.reconcilerRound(nanos);
    last =
        new Reconciler.Round(
            at,
            decisions.scanned(),
            decisions.owned(),
            started,
            retired,
            warmed,
            dropped,
            decisions.cutShort() || warmingStopped,
            Duration.ofNanos(nanos));
    if (last.fixedAnything()) {
      getContext()
          .getLog()
          .info(
              "Reconciler of fleet [{}]: started {}, retired {} worker(s); warmed {}, dropped {}"
                  + " cache entr(ies); {} key(s) scanned in {} ms{}",
              setup.fleet().spec().name(),
              started,
              retired,
              warmed,
              dropped,
              decisions.scanned(),
              last.duration().toMillis(),
              last.cutShort() ? ", cut short" : "");
    }
    return last;
  }

  private int start(List<String> keys) {
    for (String key : keys) {
      setup.fleet().tell(key, setup.wake().get().apply(key));
    }
    return keys.size();
  }

  private int retire(List<String> keys) {
    int retired = 0;
    LocalWorkers workers = setup.fleet().localWorkers();
    for (String key : keys) {
      LocalWorkers.Activity worker = workers.get(key);
      if (worker == null) {
        continue; // stopped meanwhile
      }
      if (setup.retire() == RetireMode.STOP) {
        worker.self.tell(FleetWorker.Retire.INSTANCE);
      } else {
        if (worker.passivating) {
          continue; // the idle sweep got there first
        }
        worker.passivating = true;
        worker.shard.tell(new ClusterSharding.Passivate<>(worker.self));
      }
      retired++;
    }
    return retired;
  }

  private int drop(List<String> keys) {
    keys.forEach(key -> setup.cache().get().invalidate(key));
    return keys.size();
  }

  /** {@code warmWhen} as the round calls it: a predicate that throws warms nothing. */
  private Predicate<String> guarded(Predicate<String> hot) {
    return key -> {
      try {
        return hot.test(key);
      } catch (RuntimeException e) {
        getContext()
            .getLog()
            .warn("Reconciler: warmWhen failed on [{}]; not warmed: {}", key, e.toString());
        return false;
      }
    };
  }

  /** What a round reads: the repository or desired source, the ring, the workers, the cache. */
  private final class Reads implements ReconcileRound.View {
    @Override
    public List<String> desiredKeysAfter(String cursor, int limit) {
      return setup.desired().isPresent()
          ? setup.desired().get().keysAfter(cursor, limit)
          : setup.repository().keysAfter(cursor, limit);
    }

    @Override
    public ReconcileRound.Desire desire(String key) {
      if (setup.desired().isPresent()) {
        return setup.desired().get().isDesired(key)
            ? ReconcileRound.Desire.YES
            : ReconcileRound.Desire.NO;
      }
      Optional<Versioned<V>> stored;
      try {
        stored = setup.repository().load(key);
      } catch (IllegalArgumentException e) {
        unreadable(key, e);
        return ReconcileRound.Desire.UNKNOWN;
      }
      if (stored.isEmpty()) {
        return ReconcileRound.Desire.NO;
      }
      if (setup.activeWhen().isEmpty()) {
        return ReconcileRound.Desire.YES;
      }
      try {
        return setup.activeWhen().get().test(stored.get().value())
            ? ReconcileRound.Desire.YES
            : ReconcileRound.Desire.NO;
      } catch (RuntimeException e) {
        getContext()
            .getLog()
            .warn("Reconciler: activeWhen failed on [{}]; left as it is: {}", key, e.toString());
        return ReconcileRound.Desire.UNKNOWN;
      }
    }

    /** A stored value that cannot be read as the repository's type (or a key it refuses). */
    private void unreadable(String key, IllegalArgumentException e) {
      getContext()
          .getLog()
          .warn("Reconciler: cannot read [{}]; left as it is: {}", key, e.getMessage());
    }

    @Override
    public boolean owns(String key) {
      return self.equals(setup.node().addressBook().pickNode(key));
    }

    @Override
    public boolean isRunning(String key) {
      return setup.fleet().isRunningHere(key);
    }

    @Override
    public List<String> runningKeysAfter(String cursor, int limit) {
      return setup.fleet().localWorkers().keysAfter(cursor, limit);
    }

    @Override
    public boolean isCached(String key) {
      return setup.cache().get().peek(key).isPresent();
    }

    @Override
    public List<String> cachedKeysAfter(String cursor, int limit) {
      return setup.cache().get().cachedKeysAfter(cursor, limit);
    }

    @Override
    public boolean isStale(String key) {
      Optional<Versioned<V>> cached = setup.cache().get().peek(key);
      if (cached.isEmpty()) {
        return false; // expired or dropped meanwhile
      }
      Optional<Versioned<V>> stored;
      try {
        stored = setup.repository().load(key);
      } catch (IllegalArgumentException e) {
        unreadable(key, e);
        return false;
      }
      return stored.isEmpty() || cached.get().version() < stored.get().version();
    }

    @Override
    public List<String> hottest(int n) {
      return setup.cache().get().hotKeys(n);
    }
  }
}
