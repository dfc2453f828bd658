package dev.troupe.daemons.internal;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API. Runs the daemons the leader places on this node ({@code /system/troupeDaemonHost}).
 */
public final class DaemonHost extends AbstractBehavior<DaemonHost.Command> {
  /*
   * Protocol with the leader:
   * - Start(launcher, spec with epoch): idempotent per (name, epoch). A running instance of the
   *   name with an older epoch is stopped first (the leader moved it back here), and the new one
   *   starts only once the old one has ended; one with the same or a newer epoch is answered as
   *   Started. The daemon runs as a child named after name and
   *   epoch, supervised with restartWithBackoff (a daemon that keeps failing restarts at most
   *   about 6 times a minute by default), and is registered in the address book under its name.
   *   An unknown launcher is answered StartFailed: the leader reports it and places nothing.
   * - Stop(name, epoch): stops the instance if its epoch is not newer; answered Stopped either way,
   *   but only once the instance (or one of the name still stopping) has ended: the leader starts
   *   the daemon elsewhere on Stopped, so an earlier answer would let two instances overlap.
   * - Report: every instance running here, so that a new leader adopts them instead of restarting
   *   them, and so that re-scans find duplicates and silently stopped daemons.
   * - A daemon that stops without a Stop (it stopped itself, or the address book stopped it as a
   *   stale duplicate: names are ranked by epoch) is reported to the leader (Terminated), which
   *   restarts it if it should run.
   *
   * At most one live instance (leases, see DaemonStore): before an instance starts, the host
   * claims the daemon's lease for the instance's epoch; a lease held by another node's live
   * instance is answered LeaseBusy (the leader asks again once it can have expired). The host
   * renews all its leases every lease-renew-interval and trusts each lease until lease-duration
   * minus lease-safety-margin after the start of the last good renewal (or of its claim), by its
   * own monotonic clock: an instance past that, or whose lease a renewal no longer lists, is
   * stopped at once (self-fencing: a paused, partitioned or database-cut node) and reported to the
   * leader as Terminated. An instance that ends releases its lease before its end is answered, so
   * a move or a hand-over does not wait for the expiry.
   */

  /** The protocol of a daemon host. */
  public sealed interface Command {}

  /** Starts a daemon of {@code launcher} as {@code spec} (with its epoch). */
  public record Start(String launcher, DaemonSpec spec, ActorRef<StartResult> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link Start}. */
  public sealed interface StartResult extends TroupeSerializable {}

  /** The daemon runs here as {@code ref}. */
  public record Started(String name, long epoch, ActorRef<Object> ref) implements StartResult {}

  /** The daemon could not start here. */
  public record StartFailed(String name, long epoch, String reason) implements StartResult {}

  /**
   * Another instance still holds the daemon's lease ({@code holder}, null if unknown): ask again in
   * {@code retryAfterMillis}.
   */
  public record LeaseBusy(String name, long epoch, String holder, long retryAfterMillis)
      implements StartResult {}

  /** Stops the instance of {@code name} unless it is newer than {@code epoch} (0 = any). */
  public record Stop(String name, long epoch, ActorRef<Stopped> replyTo)
      implements Command, TroupeSerializable {}

  /** The answer to {@link Stop}. */
  public record Stopped(String name, long epoch) implements TroupeSerializable {}

  /** Asks which daemons run here. */
  public record Report(ActorRef<Running> replyTo) implements Command, TroupeSerializable {}

  /** The daemons that run on {@code node}. */
  public record Running(String node, List<Instance> instances) implements TroupeSerializable {}

  /** One running daemon. */
  public record Instance(String name, String launcher, long epoch, ActorRef<Object> ref)
      implements TroupeSerializable {}

  private record ChildStopped(String name, long epoch) implements Command {}

  private record Claimed(
      Start start, long startedNanos, DaemonStore.LeaseClaim claim, Throwable failure)
      implements Command {}

  private record Renewed(long startedNanos, Map<String, Long> held, Throwable failure)
      implements Command {}

  private enum RenewTick implements Command {
    INSTANCE
  }

  /** A lease release finished (or failed: the lease then expires by itself); go on. */
  private record Released(Runnable then) implements Command {}

  /** A running daemon of this node. */
  private record Hosted(String launcher, DaemonSpec spec, ActorRef<Object> ref) {}

  /** An instance asked to stop that has not ended yet, and what waits for its end. */
  private record Stopping(long epoch, List<Stop> stops, List<Start> starts) {}

  private final TroupeNode node;
  private final Map<String, Launcher<?>> launchers;
  private final Function<String, ActorRef<DaemonLeader.Command>> leader;
  private final DaemonsSettings settings;
  private final DaemonStore store;
  private final String owner;
  private final Executor blocking;
  private final Map<String, Hosted> running = new HashMap<>();
  private final Map<String, Stopping> stopping = new HashMap<>();

  /** Starts that wait for a lease claim of their name in flight (the first one is claiming). */
  private final Map<String, List<Start>> claiming = new HashMap<>();

  /** Per running daemon: when its lease was claimed, and until when it is trusted (nanoTime). */
  private final Map<String, long[]> leases = new HashMap<>();

  /** Daemons stopped because their lease was lost: reported to the leader when they end. */
  private final java.util.Set<String> fenced = new java.util.HashSet<>();

  private boolean renewing;

  private DaemonHost(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings,
      DaemonStore store) {
    super(ctx);
    this.node = node;
    this.launchers = launchers;
    this.leader = leader;
    this.settings = settings;
    this.store = store;
    this.owner =
        JdbcLockRegistry.ownerOf(Cluster.get(ctx.getSystem()).selfMember().uniqueAddress());
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    timers.startTimerWithFixedDelay(RenewTick.INSTANCE, settings.leaseRenewInterval());
  }

  /**
   * The host of {@code node}; {@code launchers} is the node's live launcher map, {@code leader}
   * gives the leader proxy (called lazily), {@code store} keeps the daemons' leases.
   */
  public static Behavior<Command> create(
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings,
      DaemonStore store) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> new DaemonHost(ctx, timers, node, launchers, leader, settings, store)));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Start.class, this::onStart)
        .onMessage(Stop.class, this::onStop)
        .onMessage(Report.class, this::onReport)
        .onMessage(ChildStopped.class, this::onChildStopped)
        .onMessage(Claimed.class, this::onClaimed)
        .onMessage(RenewTick.class, msg -> onRenewTick())
        .onMessage(Renewed.class, this::onRenewed)
        .onMessage(Released.class, this::onReleased)
        .build();
  }

  private Behavior<Command> onStart(Start cmd) {
    String name = cmd.spec().name();
    long epoch = cmd.spec().epoch();
    Hosted current = running.get(name);
    if (current != null && current.spec().epoch() >= epoch) {
      cmd.replyTo().tell(new Started(name, current.spec().epoch(), current.ref()));
      return this;
    }
    if (current != null) {
      stopChild(name, current); // an older instance: the newer one replaces it once it has ended
    }
    if (stopping.containsKey(name)) {
      stopping.get(name).starts().add(cmd);
      return this;
    }
    Launcher<?> launcher = launchers.get(cmd.launcher());
    if (launcher == null) {
      cmd.replyTo()
          .tell(
              new StartFailed(
                  name,
                  epoch,
                  "no launcher ["
                      + cmd.launcher()
                      + "] is registered on node ["
                      + node.address()
                      + "]; registered: "
                      + launchers.keySet()));
      return this;
    }
    if (claiming.containsKey(name)) {
      claiming.get(name).add(cmd); // run again once the claim in flight has its answer
      return this;
    }
    claiming.put(name, new ArrayList<>());
    long started = System.nanoTime();
    long leaseMillis = settings.leaseDuration().toMillis();
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(
                () -> store.claimLease(name, owner, epoch, leaseMillis), blocking),
            (claim, failure) -> new Claimed(cmd, started, claim, failure));
    return this;
  }

  private Behavior<Command> onClaimed(Claimed msg) {
    Start cmd = msg.start();
    String name = cmd.spec().name();
    long epoch = cmd.spec().epoch();
    List<Start> waiting = claiming.remove(name);
    long trust = settings.leaseTrust().toNanos();
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn("Daemon [{}] (epoch {}): cannot claim its lease: {}", name, epoch, msg.failure());
      cmd.replyTo()
          .tell(new LeaseBusy(name, epoch, null, settings.leaseRenewInterval().toMillis()));
    } else if (!msg.claim().claimed()) {
      cmd.replyTo()
          .tell(
              new LeaseBusy(name, epoch, msg.claim().holder(), msg.claim().remainingMillis() + 50));
    } else if (System.nanoTime() - msg.startedNanos() >= trust) {
      // The claim took so long that its lease may be about to expire: do not trust it.
      cmd.replyTo()
          .tell(new LeaseBusy(name, epoch, owner, settings.leaseRenewInterval().toMillis()));
    } else if (running.containsKey(name) || stopping.containsKey(name)) {
      onStart(cmd); // the state changed while claiming: decide again
    } else {
      spawnClaimed(cmd, msg.startedNanos());
    }
    if (waiting != null) {
      waiting.forEach(this::onStart);
    }
    return this;
  }

  private void spawnClaimed(Start cmd, long claimedNanos) {
    String name = cmd.spec().name();
    long epoch = cmd.spec().epoch();
    Launcher<?> launcher = launchers.get(cmd.launcher());
    ActorRef<Object> ref;
    try {
      ref = spawn(launcher, cmd.spec());
    } catch (RuntimeException e) {
      cmd.replyTo()
          .tell(
              new StartFailed(
                  name, epoch, "launcher [" + cmd.launcher() + "] failed: " + e.getMessage()));
      releaseThen(name, epoch, () -> {});
      return;
    }
    running.put(name, new Hosted(cmd.launcher(), cmd.spec(), ref));
    leases.put(name, new long[] {claimedNanos, claimedNanos + settings.leaseTrust().toNanos()});
    getContext().watchWith(ref, new ChildStopped(name, epoch));
    register(launcher, name, ref, epoch);
    getContext()
        .getLog()
        .info("Daemon [{}] (launcher [{}], epoch {}) started", name, cmd.launcher(), epoch);
    cmd.replyTo().tell(new Started(name, epoch, ref));
  }

  @SuppressWarnings("unchecked")
  private <M> ActorRef<Object> spawn(Launcher<M> launcher, DaemonSpec spec) {
    Behavior<M> behavior = launcher.factory().apply(spec);
    Behavior<M> supervised =
        Behaviors.supervise(behavior)
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2));
    String childName =
        "d-" + URLEncoder.encode(spec.name(), StandardCharsets.UTF_8) + "-" + spec.epoch();
    return (ActorRef<Object>) (ActorRef<?>) getContext().spawn(supervised, childName);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private void register(Launcher<?> launcher, String name, ActorRef<Object> ref, long epoch) {
    // Ranked by epoch: the newest placement wins the name, also over an older instance that
    // reappears from a node that was unreachable (whose node then stops it).
    node.addressBook().registerRanked(name, (ActorRef) ref, (Class) launcher.protocol(), epoch);
  }

  private Behavior<Command> onStop(Stop cmd) {
    Hosted current = running.get(cmd.name());
    if (current != null && (cmd.epoch() <= 0 || current.spec().epoch() <= cmd.epoch())) {
      stopChild(cmd.name(), current);
      getContext()
          .getLog()
          .info("Daemon [{}] (epoch {}) stopping", cmd.name(), current.spec().epoch());
    }
    Stopping ending = stopping.get(cmd.name());
    if (ending != null) {
      ending.stops().add(cmd); // answered when it has ended
    } else {
      cmd.replyTo().tell(new Stopped(cmd.name(), cmd.epoch()));
    }
    return this;
  }

  /** Stops {@code hosted}; its ChildStopped then answers what waits for its end. */
  private void stopChild(String name, Hosted hosted) {
    running.remove(name);
    leases.remove(name);
    stopping.put(name, new Stopping(hosted.spec().epoch(), new ArrayList<>(), new ArrayList<>()));
    getContext().stop(hosted.ref());
  }

  private Behavior<Command> onReport(Report cmd) {
    List<Instance> instances = new ArrayList<>();
    running.forEach(
        (name, hosted) ->
            instances.add(
                new Instance(name, hosted.launcher(), hosted.spec().epoch(), hosted.ref())));
    cmd.replyTo().tell(new Running(node.address().toString(), instances));
    return this;
  }

  private Behavior<Command> onChildStopped(ChildStopped msg) {
    String name = msg.name();
    long epoch = msg.epoch();
    Stopping ended = stopping.get(name);
    if (ended != null && ended.epoch() == epoch) {
      getContext().getLog().info("Daemon [{}] (epoch {}) stopped", name, epoch);
      boolean wasFenced = fenced.remove(name);
      // The lease is released before the end is answered: the leader starts the daemon elsewhere
      // on Stopped, and the successor's claim must find it free.
      releaseThen(
          name,
          epoch,
          () -> {
            stopping.remove(name);
            ended
                .stops()
                .forEach(stop -> stop.replyTo().tell(new Stopped(stop.name(), stop.epoch())));
            if (wasFenced) {
              terminated(name, epoch);
            }
            ended.starts().forEach(this::onStart);
          });
      return this;
    }
    Hosted current = running.get(name);
    if (current != null && current.spec().epoch() == epoch) {
      running.remove(name);
      leases.remove(name);
      getContext().getLog().warn("Daemon [{}] (epoch {}) stopped by itself", name, epoch);
      releaseThen(name, epoch, () -> terminated(name, epoch));
    }
    return this;
  }

  private void terminated(String name, long epoch) {
    leader
        .apply("terminated")
        .tell(new DaemonLeader.Terminated(name, epoch, node.address().toString()));
  }

  /** Releases the lease of {@code name} for {@code epoch}, then runs {@code then} here. */
  private void releaseThen(String name, long epoch, Runnable then) {
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(() -> store.releaseLease(name, owner, epoch), blocking),
            (released, failure) -> {
              if (failure != null) {
                getContext()
                    .getLog()
                    .warn(
                        "Daemon [{}] (epoch {}): could not release its lease ({}); it expires by"
                            + " itself",
                        name,
                        epoch,
                        failure.toString());
              }
              return new Released(then);
            });
  }

  private Behavior<Command> onReleased(Released msg) {
    msg.then().run();
    return this;
  }

  /** Stops every instance whose lease is no longer trusted; renews the leases. */
  private Behavior<Command> onRenewTick() {
    long now = System.nanoTime();
    for (Map.Entry<String, Hosted> e : new ArrayList<>(running.entrySet())) {
      long[] lease = leases.get(e.getKey());
      if (lease == null || now - lease[1] >= 0) {
        fence(e.getKey(), e.getValue(), "its lease was not renewed in time");
      }
    }
    if (!renewing && !running.isEmpty()) {
      renewing = true;
      long started = System.nanoTime();
      long leaseMillis = settings.leaseDuration().toMillis();
      getContext()
          .pipeToSelf(
              CompletableFuture.supplyAsync(() -> store.renewLeases(owner, leaseMillis), blocking),
              (held, failure) -> new Renewed(started, held, failure));
    }
    return this;
  }

  private Behavior<Command> onRenewed(Renewed msg) {
    renewing = false;
    if (msg.failure() != null) {
      getContext().getLog().warn("Cannot renew the daemon leases: {}", msg.failure().toString());
      return this; // the instances stop when their trust runs out
    }
    long trustedUntil = msg.startedNanos() + settings.leaseTrust().toNanos();
    for (Map.Entry<String, Hosted> e : new ArrayList<>(running.entrySet())) {
      long[] lease = leases.get(e.getKey());
      if (lease == null || lease[0] - msg.startedNanos() > 0) {
        continue; // claimed after this renewal began: it cannot judge it
      }
      Long held = msg.held().get(e.getKey());
      if (held != null && held == e.getValue().spec().epoch()) {
        lease[1] = Math.max(lease[1], trustedUntil);
      } else {
        fence(e.getKey(), e.getValue(), "its lease is no longer this node's");
      }
    }
    return this;
  }

  /** Stops an instance that may no longer run here; the leader hears of it when it has ended. */
  private void fence(String name, Hosted hosted, String why) {
    getContext()
        .getLog()
        .warn("Daemon [{}] (epoch {}) stopped: {}", name, hosted.spec().epoch(), why);
    fenced.add(name);
    leases.remove(name);
    stopChild(name, hosted);
  }
}
