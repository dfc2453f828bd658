package dev.troupe.sharding.internal;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import dev.troupe.core.storage.Namespaces;
import dev.troupe.core.storage.Storage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The single-writer fence of this node's fleets: a fence lease in the database that
 * the node renews, and the shard leases ({@link FleetLease}, Pekko's lease per shard) it holds
 * under it. A fleet worker acts only while its node {@link #trusted() trusts} the fence lease; a
 * shard starts on a node only once the shard's previous owner released it or can no longer act.
 */
public final class FleetFence implements Extension {
  /*
   * Identity: the node is <address>#<uid>; each generation of its fence lease is an owner,
   * <node>#<n>. A generation ends when its trust runs out (a pause, a slow or failed renewal, a
   * revocation): every shard lease it held is lost at once (Pekko stops those shards), the node
   * deletes the old row if it can and registers the next generation; its shards then take their
   * leases again, waiting for nobody but a previous owner that may still act.
   *
   * Threads: `renewer` (one thread) registers and renews; `worker` (one thread) reads and takes
   * shard leases in batches, releases and revokes; Pekko's scheduler checks every quarter of the
   * renew interval whether the trust ran out (it never blocks on the database, so a renewal stuck
   * in a statement cannot delay the loss). A worker's own check (trusted()) is a nanoTime compare.
   *
   * Cost: one UPDATE of one row per renew-interval per node; shard leases are read and written
   * only when a shard starts (batched), never per message.
   */
  private static final Logger log = LoggerFactory.getLogger(FleetFence.class);
  private static final Id ID = new Id();

  /** How often a waiting shard lease is looked at again while its owner's lease runs. */
  private static final long HAND_OFF_POLL_MILLIS = 200;

  /** The settings, {@code troupe.sharding.fleet.single-writer}. */
  public record Settings(
      boolean enabled, Duration leaseDuration, Duration renewInterval, Duration safetyMargin) {
    /** Validates; every message names the key. */
    public Settings {
      requirePositive(leaseDuration, "troupe.sharding.fleet.single-writer.lease-duration");
      requirePositive(renewInterval, "troupe.sharding.fleet.single-writer.renew-interval");
      requirePositive(safetyMargin, "troupe.sharding.fleet.single-writer.safety-margin");
      requireArgument(
          renewInterval.plus(safetyMargin).compareTo(leaseDuration) < 0,
          "troupe.sharding.fleet.single-writer.renew-interval ("
              + renewInterval
              + ") plus safety-margin ("
              + safetyMargin
              + ") must be shorter than lease-duration ("
              + leaseDuration
              + ")");
    }

    /** Reads {@code troupe.sharding.fleet.single-writer} of the whole configuration. */
    public static Settings fromConfig(Config config) {
      Config c = config.getConfig("troupe.sharding.fleet.single-writer");
      return new Settings(
          c.getBoolean("enabled"),
          c.getDuration("lease-duration"),
          c.getDuration("renew-interval"),
          c.getDuration("safety-margin"));
    }
  }

  /** A shard lease this node holds: the generation that took it and its epoch. */
  private record Holding(String owner, long epoch, Consumer<Optional<Throwable>> onLost) {}

  /** A shard that waits for its lease. */
  private record Request(CompletableFuture<Boolean> result, Consumer<Optional<Throwable>> onLost) {}

  private final Settings settings;
  private final FenceStore store;
  private final String node;
  private final org.apache.pekko.cluster.Cluster classicCluster;
  private final ScheduledExecutorService renewer;
  private final ScheduledExecutorService worker;
  private final Map<String, Holding> held = new ConcurrentHashMap<>();
  private final Map<String, Request> pending = new ConcurrentHashMap<>();
  private final AtomicBoolean drainQueued = new AtomicBoolean();
  private final AtomicLong dropped = new AtomicLong();
  private volatile long lastDropLogNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);

  private volatile long trustedUntilNanos = Long.MIN_VALUE;
  private volatile String owner; // guarded by this for writes
  private volatile boolean registered; // guarded by this for writes
  private long generation; // guarded by this
  private volatile boolean closed;

  /** The fence of {@code system}'s node. */
  public static FleetFence get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private FleetFence(ActorSystem<?> system) {
    Config config = system.settings().config();
    this.settings = Settings.fromConfig(config);
    UniqueAddress self = Cluster.get(system).selfMember().uniqueAddress();
    this.node = self.address() + "#" + self.longUid();
    this.classicCluster = org.apache.pekko.cluster.Cluster.get(Adapter.toClassic(system));
    this.owner = node + "#1";
    this.generation = 1;
    this.renewer = Executors.newSingleThreadScheduledExecutor(daemon("troupe-fleet-fence-renew"));
    this.worker = Executors.newSingleThreadScheduledExecutor(daemon("troupe-fleet-fence"));
    this.store =
        settings.enabled()
            ? new FenceStore(
                Storage.get(system),
                Namespaces.of(config),
                (int) Math.max(1, settings.leaseDuration().toSeconds()))
            : null;
    if (settings.enabled()) {
      long every = settings.renewInterval().toMillis();
      renewer.scheduleWithFixedDelay(this::renew, 0, every, TimeUnit.MILLISECONDS);
      Duration watch = settings.renewInterval().dividedBy(4);
      system.scheduler().scheduleAtFixedRate(watch, watch, this::watch, system.executionContext());
      system.systemActorOf(revoker(), "troupeFleetFenceRevoker", Props.empty());
      CoordinatedShutdown.get(system)
          .addTask(
              CoordinatedShutdown.PhaseClusterShutdown(),
              "troupe-fleet-fence",
              () -> CompletableFuture.supplyAsync(this::close, renewer));
    }
    system.getWhenTerminated().thenRun(this::shutdownThreads);
  }

  /** The settings. */
  public Settings settings() {
    return settings;
  }

  /** Whether this node trusts its fence lease now (always, with no fence). */
  public boolean trusted() {
    return !settings.enabled() || FenceRules.trusts(trustedUntilNanos, System.nanoTime());
  }

  /**
   * The holding of shard lease {@code name} as a worker of that shard captures it when it starts
   * (the generation that took the lease), or null if this node does not hold it.
   */
  public Object holding(String name) {
    if (!settings.enabled()) {
      return Boolean.TRUE;
    }
    Holding h = held.get(name);
    return h == null ? null : h.owner();
  }

  /**
   * Whether a worker that captured {@code holding} may act now: its node still trusts the fence
   * lease of the generation that took its shard. A worker of a shard whose generation ended (its
   * lease lost; Pekko is stopping the shard) may not act even once the node's next generation
   * trusts its own lease.
   */
  public boolean mayAct(Object holding) {
    if (!settings.enabled()) {
      return true;
    }
    return holding != null && holding.equals(owner) && trusted();
  }

  /** Counts a message a worker did not handle because its node did not trust the fence. */
  public void dropped(String fleetKey) {
    long n = dropped.incrementAndGet();
    long now = System.nanoTime();
    if (now - lastDropLogNanos > TimeUnit.SECONDS.toNanos(5)) {
      lastDropLogNanos = now;
      log.warn(
          "Fleet worker [{}] dropped a message: this node does not trust its fleet fence lease"
              + " (paused, cut off from the database, or removed); its shards are stopping."
              + " {} dropped so far",
          fleetKey,
          n);
    }
  }

  /** Whether this node holds shard lease {@code name} and may act on it now. */
  public boolean holds(String name) {
    Holding h = held.get(name);
    return h != null && h.owner().equals(owner) && trusted();
  }

  /**
   * Takes shard lease {@code name}: completes with true once this node holds it (after the previous
   * owner released it or can no longer act), false if it was released before that.
   */
  public CompletionStage<Boolean> acquire(String name, Consumer<Optional<Throwable>> onLost) {
    if (!settings.enabled()) {
      return CompletableFuture.completedFuture(true);
    }
    if (holds(name)) {
      return CompletableFuture.completedFuture(true);
    }
    Request request = new Request(new CompletableFuture<>(), onLost);
    Request previous = pending.put(name, request);
    if (previous != null) {
      previous.result().complete(false);
    }
    scheduleDrain(0);
    return request.result();
  }

  /** Gives up shard lease {@code name} (its shard stopped). */
  public CompletionStage<Boolean> release(String name) {
    Request waiting = pending.remove(name);
    if (waiting != null) {
      waiting.result().complete(false);
    }
    Holding h = held.remove(name);
    if (h == null || store == null) {
      return CompletableFuture.completedFuture(false);
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            store.release(h.owner(), name);
          } catch (RuntimeException e) {
            log.warn(
                "Cannot release fleet shard lease [{}]; it ends with its owner: {}",
                name,
                e.toString());
          }
          return true;
        },
        worker);
  }

  // ---------------------------------------------------------------------------------------------
  // The fence lease.

  private void renew() {
    if (closed) {
      return;
    }
    long start = System.nanoTime();
    String me = owner;
    try {
      if (!registered) {
        if (!mayRegister()) {
          return; // a node on its way out (downed, exiting) starts no new generation
        }
        store.register(me, node, settings.leaseDuration().toMillis());
        synchronized (this) {
          if (me.equals(owner)) {
            registered = true;
            trustedUntilNanos = trustUntil(start);
          }
        }
        log.debug("Fleet fence lease [{}] registered", me);
        scheduleDrain(0);
      } else if (store.renew(me, settings.leaseDuration().toMillis())) {
        synchronized (this) {
          if (me.equals(owner) && trustUntil(start) - trustedUntilNanos > 0) {
            trustedUntilNanos = trustUntil(start);
          }
        }
      } else {
        lapse(me, "the fence lease expired or was revoked (this node was removed)");
      }
    } catch (RuntimeException e) {
      // The trust runs out by itself if this goes on; watch() ends the generation then.
      log.warn("Cannot renew the fleet fence lease [{}]: {}", me, e.toString());
    }
  }

  /** Whether this node may start a fence generation: it is a member that is not on its way out. */
  private boolean mayRegister() {
    if (classicCluster.isTerminated()) {
      return false;
    }
    MemberStatus status = classicCluster.selfMember().status();
    return status == MemberStatus.up()
        || status == MemberStatus.weaklyUp()
        || status == MemberStatus.joining()
        || status == MemberStatus.leaving();
  }

  private long trustUntil(long renewalStartNanos) {
    return FenceRules.trustedUntil(
        renewalStartNanos, settings.leaseDuration().toNanos(), settings.safetyMargin().toNanos());
  }

  private void watch() {
    if (registered && !trusted()) {
      lapse(owner, "it was not renewed in time");
    }
  }

  /** Ends generation {@code which}: every shard lease it held is lost; the next one registers. */
  private void lapse(String which, String reason) {
    List<Holding> lost = new ArrayList<>();
    synchronized (this) {
      if (!which.equals(owner) || closed) {
        return;
      }
      trustedUntilNanos = Long.MIN_VALUE;
      registered = false;
      generation++;
      owner = node + "#" + generation;
      held.forEach(
          (name, h) -> {
            if (h.owner().equals(which) && held.remove(name, h)) {
              lost.add(h);
            }
          });
    }
    log.warn(
        "Fleet fence lease [{}] lost: {}; stopping the {} shard(s) it held",
        which,
        reason,
        lost.size());
    IllegalStateException cause =
        new IllegalStateException("fleet fence lease [" + which + "] lost: " + reason);
    for (Holding h : lost) {
      try {
        h.onLost().accept(Optional.of(cause));
      } catch (RuntimeException e) {
        log.warn("A lost-lease callback failed", e);
      }
    }
    // Its workers no longer act (trusted() is false): free its shards now if the database answers.
    renewer.execute(
        () -> {
          try {
            store.deregister(which);
          } catch (RuntimeException e) {
            log.debug("Cannot end fleet fence lease [{}]; it expires: {}", which, e.toString());
          }
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Shard leases.

  private void scheduleDrain(long delayMillis) {
    if (closed) {
      return;
    }
    if (delayMillis <= 0) {
      if (drainQueued.compareAndSet(false, true)) {
        worker.execute(this::drain);
      }
    } else {
      worker.schedule(() -> scheduleDrain(0), delayMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Takes every waiting shard lease that is free, in one batch. */
  private void drain() {
    drainQueued.set(false);
    if (pending.isEmpty() || closed) {
      return;
    }
    String me = owner;
    if (!registered || !trusted()) {
      scheduleDrain(100); // the next generation is being registered
      return;
    }
    List<String> names = new ArrayList<>(pending.keySet());
    try {
      Map<String, FenceRules.ShardLease> leases = store.read(names);
      Map<String, FenceRules.ShardLease> free = new HashMap<>();
      long wait = Long.MAX_VALUE;
      for (String name : names) {
        FenceRules.Verdict verdict = FenceRules.judge(me, leases.get(name));
        if (verdict.take()) {
          free.put(name, leases.get(name));
        } else {
          wait = Math.min(wait, verdict.waitMillis());
        }
      }
      Map<String, Long> taken = free.isEmpty() ? Map.of() : store.take(me, free);
      for (Map.Entry<String, Long> t : taken.entrySet()) {
        Request request = pending.remove(t.getKey());
        if (request == null) {
          release(me, t.getKey()); // released while we took it
          continue;
        }
        synchronized (this) {
          if (!me.equals(owner) || !trusted()) {
            pending.putIfAbsent(t.getKey(), request); // the generation ended meanwhile: again
            continue;
          }
          held.put(t.getKey(), new Holding(me, t.getValue(), request.onLost()));
        }
        request.result().complete(true);
      }
      if (taken.size() < free.size()) {
        wait = Math.min(wait, 50); // lost a race for some: read again soon
      }
      if (!pending.isEmpty()) {
        // A live owner releases its shard at a hand-off any moment (its release may reach the
        // database just after this read): look again soon rather than when its lease would end.
        scheduleDrain(Math.min(Math.max(wait, 0), HAND_OFF_POLL_MILLIS) + 10);
      }
    } catch (RuntimeException e) {
      log.warn("Cannot take {} fleet shard lease(s); trying again: {}", names.size(), e.toString());
      scheduleDrain(settings.renewInterval().toMillis());
    }
  }

  private void release(String holder, String name) {
    try {
      store.release(holder, name);
    } catch (RuntimeException e) {
      log.debug("Cannot release fleet shard lease [{}]: {}", name, e.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Removed members and shutdown.

  /** Revokes the fence leases of members removed from the cluster, so they cannot renew them. */
  private Behavior<ClusterEvent.MemberRemoved> revoker() {
    return Behaviors.setup(
        ctx -> {
          Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberRemoved.class));
          org.apache.pekko.cluster.Cluster classic = classicCluster;
          return Behaviors.receiveMessage(
              removed -> {
                UniqueAddress gone = removed.member().uniqueAddress();
                String goneNode = gone.address() + "#" + gone.longUid();
                // Only a member in the cluster revokes: when this node's own cluster shuts down,
                // Pekko publishes every other member as removed (its view empties); and a node that
                // is down or on its way out has no say about the others.
                MemberStatus self = classic.isTerminated() ? null : classic.selfMember().status();
                boolean inCluster = self == MemberStatus.up() || self == MemberStatus.weaklyUp();
                if (!goneNode.equals(node) && inCluster) {
                  worker.execute(() -> revoke(goneNode));
                }
                return Behaviors.same();
              });
        });
  }

  private void revoke(String goneNode) {
    try {
      int n = store.revoke(goneNode);
      log.debug("Revoked {} fleet fence lease(s) of removed member [{}]", n, goneNode);
    } catch (RuntimeException e) {
      log.warn("Cannot revoke the fleet fence lease of [{}]: {}", goneNode, e.toString());
    }
  }

  /** Stops trusting, loses what is left and ends the fence lease (the shards have stopped). */
  private Done close() {
    String last;
    List<Holding> lost;
    synchronized (this) {
      if (closed) {
        return Done.getInstance();
      }
      closed = true;
      trustedUntilNanos = Long.MIN_VALUE;
      last = owner;
      lost = new ArrayList<>(held.values());
      held.clear();
    }
    pending.values().forEach(r -> r.result().complete(false));
    pending.clear();
    IllegalStateException cause = new IllegalStateException("the node is shutting down");
    lost.forEach(h -> h.onLost().accept(Optional.of(cause)));
    try {
      store.deregister(last);
    } catch (RuntimeException e) {
      log.debug(
          "Cannot end fleet fence lease [{}] at shutdown; it expires: {}", last, e.toString());
    }
    return Done.getInstance();
  }

  private void shutdownThreads() {
    closed = true;
    renewer.shutdownNow();
    worker.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  static final class Id extends ExtensionId<FleetFence> {
    @Override
    public FleetFence createExtension(ActorSystem<?> system) {
      return new FleetFence(system);
    }
  }
}
