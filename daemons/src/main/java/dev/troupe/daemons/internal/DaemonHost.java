package dev.troupe.daemons.internal;

import dev.troupe.core.HashRing;
import dev.troupe.core.Names;
import dev.troupe.core.Subscription;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
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
   *
   * Taking over while the leader is unreachable (see Takeover): the host follows the daemon-host
   * group as the leader does. While the leader's node (the oldest member) is not among the
   * reachable hosts, the leader cannot re-place anything until that node is downed and a new leader
   * has taken over (about 19 s with the shipped settings). So the host reads from the lease table
   * the leases of the members that are not reachable hosts (each row names the launcher and the
   * arguments of its instance), and starts those the ring over the reachable active hosts gives it,
   * each with a new epoch and under its lease, exactly as a Start from the leader: the lease makes
   * it wait until the old holder's lease has ended, so at most one instance runs. It tells the
   * leader (TookOver) when one runs; a new leader adopts them from the reports anyway.
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

  private record HostsChanged(List<WorkerEntry<Command>> hosts) implements Command {}

  private enum ScanOrphans implements Command {
    INSTANCE
  }

  private record OrphansFound(List<DaemonStore.HeldLease> leases, Throwable failure)
      implements Command {}

  private record TakeoverEpoch(DaemonStore.HeldLease lease, long epoch, Throwable failure)
      implements Command {}

  private record TakeoverAnswered(StartResult result) implements Command {}

  private record RetryTakeover(String name, long epoch) implements Command {}

  /** A lease release finished (or failed: the lease then expires by itself); go on. */
  private record Released(Runnable then) implements Command {}

  /**
   * The node is shutting down (CoordinatedShutdown, also when it was downed): stop every instance
   * here, release their leases, start nothing more; answered once all have ended.
   */
  public record StopAll(ActorRef<Done> replyTo) implements Command {}

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
  private final LeaseBoard leases;

  private final DaemonMeters meters;

  /** Daemons stopped because their lease was lost: reported to the leader when they end. */
  private final Set<String> fenced = new HashSet<>();

  private boolean renewing;

  /** Set by StopAll: the node is shutting down; what waits for every instance to have ended. */
  private boolean closing;

  private final List<ActorRef<Done>> stoppedAll = new ArrayList<>();

  // Taking over while the leader is unreachable
  private final TimerScheduler<Command> timers;
  private final Subscription hostSubscription;
  private final String self;
  private final ActorRef<StartResult> takeoverReplies;
  private Set<String> reachableHosts = Set.of();
  private HashRing ring = HashRing.of(List.of());
  private boolean scanningOrphans;
  private boolean scanAgain;

  /** Daemons this host is taking over, by name: the lease it found and the epoch (0 = raising). */
  private final Map<String, Taking> taking = new HashMap<>();

  private record Taking(DaemonStore.HeldLease lease, long epoch) {}

  private DaemonHost(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings,
      DaemonStore store,
      Function<Consumer<List<WorkerEntry<Command>>>, Subscription> subscribeHosts,
      LeaseBoard leases,
      DaemonMeters meters) {
    super(ctx);
    this.leases = leases;
    this.meters = meters;
    this.timers = timers;
    this.self = node.address().toString();
    this.takeoverReplies = ctx.messageAdapter(StartResult.class, TakeoverAnswered::new);
    this.node = node;
    this.launchers = launchers;
    this.leader = leader;
    this.settings = settings;
    this.store = store;
    this.owner =
        JdbcLockRegistry.ownerOf(Cluster.get(ctx.getSystem()).selfMember().uniqueAddress());
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    timers.startTimerWithFixedDelay(RenewTick.INSTANCE, settings.leaseRenewInterval());
    ActorRef<Command> me = ctx.getSelf();
    this.hostSubscription =
        subscribeHosts == null
            ? null
            : subscribeHosts.apply(list -> me.tell(new HostsChanged(list)));
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
    return create(
        node, launchers, leader, settings, store, null, new LeaseBoard(), DaemonMeters.none());
  }

  /**
   * The host of {@code node}, which also takes over the daemons of unreachable nodes while the
   * leader's node is unreachable; {@code subscribeHosts} subscribes a listener to the daemon-host
   * group (null: never takes over); {@code leases} is where it publishes the leases it holds;
   * {@code meters} records its placements, epochs and restarts.
   */
  public static Behavior<Command> create(
      TroupeNode node,
      Map<String, Launcher<?>> launchers,
      Function<String, ActorRef<DaemonLeader.Command>> leader,
      DaemonsSettings settings,
      DaemonStore store,
      Function<Consumer<List<WorkerEntry<Command>>>, Subscription> subscribeHosts,
      LeaseBoard leases,
      DaemonMeters meters) {
    return DaemonLogs.onNode(
        Command.class,
        node.name(),
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers ->
                        new DaemonHost(
                            ctx,
                            timers,
                            node,
                            launchers,
                            leader,
                            settings,
                            store,
                            subscribeHosts,
                            leases,
                            meters))));
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
        .onMessage(StopAll.class, this::onStopAll)
        .onMessage(HostsChanged.class, this::onHostsChanged)
        .onMessageEquals(ScanOrphans.INSTANCE, this::onScanOrphans)
        .onMessage(OrphansFound.class, this::onOrphansFound)
        .onMessage(TakeoverEpoch.class, this::onTakeoverEpoch)
        .onMessage(TakeoverAnswered.class, this::onTakeoverAnswered)
        .onMessage(RetryTakeover.class, this::onRetryTakeover)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onStart(Start cmd) {
    String name = cmd.spec().name();
    long epoch = cmd.spec().epoch();
    if (closing) {
      cmd.replyTo().tell(new StartFailed(name, epoch, "node [" + node.address() + "] is stopping"));
      return this;
    }
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
                () ->
                    store.claimLease(
                        name, owner, epoch, leaseMillis, cmd.launcher(), cmd.spec().args()),
                blocking),
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
      try (var log = DaemonLogs.about(name, epoch)) {
        getContext()
            .getLog()
            .warn("Daemon [{}] (epoch {}): cannot claim its lease: {}", name, epoch, msg.failure());
      }
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
      // A name an earlier version stored (spawned daemon, lease) that the rule now refuses: the
      // address book would refuse it below, after the spawn. Refused here instead, with the rule.
      Names.require(name, "daemon name");
    } catch (IllegalArgumentException e) {
      cmd.replyTo().tell(new StartFailed(name, epoch, e.getMessage()));
      releaseThen(name, epoch, () -> {});
      return;
    }
    try {
      ref = spawn(launcher, cmd.launcher(), cmd.spec());
    } catch (RuntimeException e) {
      cmd.replyTo()
          .tell(
              new StartFailed(
                  name, epoch, "launcher [" + cmd.launcher() + "] failed: " + e.getMessage()));
      releaseThen(name, epoch, () -> {});
      return;
    }
    running.put(name, new Hosted(cmd.launcher(), cmd.spec(), ref));
    leases.put(name, epoch, claimedNanos, claimedNanos + settings.leaseTrust().toNanos());
    getContext().watchWith(ref, new ChildStopped(name, epoch));
    register(launcher, name, ref, epoch);
    meters.placed(name, cmd.launcher(), epoch);
    try (var log = DaemonLogs.about(name, epoch)) {
      getContext()
          .getLog()
          .info("Daemon [{}] (launcher [{}], epoch {}) started", name, cmd.launcher(), epoch);
    }
    cmd.replyTo().tell(new Started(name, epoch, ref));
  }

  @SuppressWarnings("unchecked")
  private <M> ActorRef<Object> spawn(Launcher<M> launcher, String launcherName, DaemonSpec spec) {
    Behavior<M> behavior = launcher.factory().apply(spec);
    // Outermost: the supervisor's own lines about the daemon's failures carry its keys too.
    Behavior<M> supervised =
        DaemonLogs.ofDaemon(
            spec.name(),
            spec.epoch(),
            Behaviors.supervise(meters.timingRestarts(behavior, launcherName))
                .onFailure(
                    SupervisorStrategy.restartWithBackoff(
                        settings.restartBackoffMin(), settings.restartBackoffMax(), 0.2)));
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
      try (var log = DaemonLogs.about(cmd.name(), current.spec().epoch())) {
        getContext()
            .getLog()
            .info("Daemon [{}] (epoch {}) stopping", cmd.name(), current.spec().epoch());
      }
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
    meters.ended(name);
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
      try (var log = DaemonLogs.about(name, epoch)) {
        getContext().getLog().info("Daemon [{}] (epoch {}) stopped", name, epoch);
      }
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
      meters.ended(name);
      running.remove(name);
      leases.remove(name);
      try (var log = DaemonLogs.about(name, epoch)) {
        getContext().getLog().warn("Daemon [{}] (epoch {}) stopped by itself", name, epoch);
      }
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
            // Logged when Released is handled: this mapping runs before the behavior's MDC is set.
            (released, failure) ->
                new Released(
                    failure == null
                        ? then
                        : () -> {
                          try (var log = DaemonLogs.about(name, epoch)) {
                            getContext()
                                .getLog()
                                .warn(
                                    "Daemon [{}] (epoch {}): could not release its lease ({}); it"
                                        + " expires by itself",
                                    name,
                                    epoch,
                                    failure.toString());
                          }
                          then.run();
                        }));
  }

  private Behavior<Command> onReleased(Released msg) {
    msg.then().run();
    answerStopAll();
    return this;
  }

  private Behavior<Command> onStopAll(StopAll cmd) {
    closing = true;
    taking.clear();
    stoppedAll.add(cmd.replyTo());
    if (!running.isEmpty()) {
      getContext()
          .getLog()
          .info("Node stopping: stopping its {} daemon(s), releasing their leases", running.size());
    }
    for (Map.Entry<String, Hosted> e : new ArrayList<>(running.entrySet())) {
      stopChild(e.getKey(), e.getValue());
    }
    answerStopAll();
    return this;
  }

  /** Answers StopAll once nothing runs or stops here any more. */
  private void answerStopAll() {
    if (closing && running.isEmpty() && stopping.isEmpty() && !stoppedAll.isEmpty()) {
      stoppedAll.forEach(r -> r.tell(Done.getInstance()));
      stoppedAll.clear();
    }
  }

  /** Stops every instance whose lease is no longer trusted; renews the leases. */
  private Behavior<Command> onRenewTick() {
    long now = System.nanoTime();
    for (Map.Entry<String, Hosted> e : new ArrayList<>(running.entrySet())) {
      LeaseBoard.Trust lease = leases.get(e.getKey());
      if (lease == null || now - lease.untilNanos() >= 0) {
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
      LeaseBoard.Trust lease = leases.get(e.getKey());
      if (lease == null || lease.claimedNanos() - msg.startedNanos() > 0) {
        continue; // claimed after this renewal began: it cannot judge it
      }
      Long held = msg.held().get(e.getKey());
      if (held != null && held == e.getValue().spec().epoch()) {
        leases.extend(e.getKey(), trustedUntil);
      } else {
        fence(e.getKey(), e.getValue(), "its lease is no longer this node's");
      }
    }
    // A lease this node holds for an instance it no longer runs (its release failed, say while the
    // database restarted) would be renewed with the others for ever, and its daemon could start
    // nowhere else: give it up now.
    Set<String> busy = busyHere();
    msg.held()
        .forEach(
            (name, epoch) -> {
              if (!busy.contains(name)) {
                try (var log = DaemonLogs.about(name, epoch)) {
                  getContext()
                      .getLog()
                      .info(
                          "Daemon [{}] (epoch {}): releasing a lease this node holds but no longer"
                              + " runs",
                          name,
                          epoch);
                }
                releaseThen(name, epoch, () -> {});
              }
            });
    return this;
  }

  /** Stops an instance that may no longer run here; the leader hears of it when it has ended. */
  private void fence(String name, Hosted hosted, String why) {
    try (var log = DaemonLogs.about(name, hosted.spec().epoch())) {
      getContext()
          .getLog()
          .warn("Daemon [{}] (epoch {}) stopped: {}", name, hosted.spec().epoch(), why);
    }
    fenced.add(name);
    leases.remove(name);
    stopChild(name, hosted);
  }

  // ---- taking over while the leader is unreachable ----

  private Behavior<Command> onHostsChanged(HostsChanged msg) {
    Set<String> reachable = new HashSet<>();
    Set<String> active = new HashSet<>();
    for (WorkerEntry<Command> entry : msg.hosts()) {
      reachable.add(entry.node().toString());
      if (entry.state() == WorkerState.ACTIVE) {
        active.add(entry.node().toString());
      }
    }
    reachableHosts = reachable;
    if (!active.equals(ring.members())) {
      ring = HashRing.of(active);
    }
    return onScanOrphans();
  }

  /** The members oldest first, as the rules of {@link Takeover} see them. */
  private List<Takeover.Member> members() {
    List<Member> members = new ArrayList<>();
    Cluster.get(getContext().getSystem()).state().getMembers().forEach(members::add);
    members.sort((a, b) -> a.isOlderThan(b) ? -1 : b.isOlderThan(a) ? 1 : 0);
    List<Takeover.Member> result = new ArrayList<>(members.size());
    for (Member m : members) {
      boolean upOrLeaving =
          m.status().equals(MemberStatus.up()) || m.status().equals(MemberStatus.leaving());
      result.add(
          new Takeover.Member(
              m.address().toString(), JdbcLockRegistry.ownerOf(m.uniqueAddress()), upOrLeaving));
    }
    return result;
  }

  private Set<String> busyHere() {
    Set<String> busy = new HashSet<>(running.keySet());
    busy.addAll(claiming.keySet());
    busy.addAll(stopping.keySet());
    busy.addAll(taking.keySet());
    return busy;
  }

  /** While the leader's node is unreachable, reads the leases of the unreachable members. */
  private Behavior<Command> onScanOrphans() {
    if (hostSubscription == null) {
      return this;
    }
    Set<String> lost = Takeover.lostOwners(members(), reachableHosts);
    if (lost.isEmpty()) {
      return this;
    }
    if (scanningOrphans) {
      scanAgain = true;
      return this;
    }
    scanningOrphans = true;
    getContext()
        .pipeToSelf(
            CompletableFuture.supplyAsync(() -> store.leasesHeldBy(lost), blocking),
            OrphansFound::new);
    return this;
  }

  private Behavior<Command> onOrphansFound(OrphansFound msg) {
    scanningOrphans = false;
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "The leader's node is unreachable and the daemon leases cannot be read; retrying:"
                  + " {}",
              msg.failure().toString());
      timers.startSingleTimer(ScanOrphans.INSTANCE, settings.leaseRenewInterval());
      return this;
    }
    for (DaemonStore.HeldLease lease : Takeover.mine(self, ring, msg.leases(), busyHere())) {
      if (!launchers.containsKey(lease.launcher())) {
        continue; // the leader reports it when it places the daemon
      }
      try (var log = DaemonLogs.about(lease.name(), lease.epoch())) {
        getContext()
            .getLog()
            .info(
                "Taking over daemon [{}] (epoch {} on unreachable [{}]): the leader's node is"
                    + " unreachable",
                lease.name(),
                lease.epoch(),
                lease.owner());
      }
      taking.put(lease.name(), new Taking(lease, 0));
      String name = lease.name();
      getContext()
          .pipeToSelf(
              CompletableFuture.supplyAsync(() -> store.nextEpoch(name), blocking),
              (epoch, failure) -> new TakeoverEpoch(lease, epoch == null ? 0 : epoch, failure));
    }
    if (scanAgain) {
      scanAgain = false;
      onScanOrphans();
    }
    return this;
  }

  /** Whether {@code name} is still this host's to take over: leader lost, ring owner here. */
  private boolean stillMine(String name) {
    return !Takeover.lostOwners(members(), reachableHosts).isEmpty()
        && !ring.members().isEmpty()
        && self.equals(ring.pick(name));
  }

  private Behavior<Command> onTakeoverEpoch(TakeoverEpoch msg) {
    String name = msg.lease().name();
    if (msg.failure() != null) {
      taking.remove(name);
      try (var log = DaemonLogs.about(name, 0)) {
        getContext()
            .getLog()
            .warn("Cannot raise the epoch of daemon [{}] to take it over: {}", name, msg.failure());
      }
      timers.startSingleTimer(ScanOrphans.INSTANCE, settings.leaseRenewInterval());
      return this;
    }
    taking.put(name, new Taking(msg.lease(), msg.epoch()));
    return startTakeover(name);
  }

  private Behavior<Command> startTakeover(String name) {
    Taking t = taking.get(name);
    if (t == null) {
      return this;
    }
    if (!stillMine(name)) {
      taking.remove(name); // the leader is back, or another host owns it now: the leader places it
      return this;
    }
    DaemonStore.HeldLease lease = t.lease();
    onStart(
        new Start(
            lease.launcher(), new DaemonSpec(name, lease.args(), t.epoch()), takeoverReplies));
    return this;
  }

  private Behavior<Command> onTakeoverAnswered(TakeoverAnswered msg) {
    if (msg.result() instanceof Started started) {
      Taking t = taking.remove(started.name());
      Hosted hosted = running.get(started.name());
      if (t != null && hosted != null) {
        leader
            .apply("took-over")
            .tell(
                new DaemonLeader.TookOver(
                    started.name(), hosted.launcher(), started.epoch(), self, started.ref()));
      }
    } else if (msg.result() instanceof LeaseBusy busy) {
      Taking t = taking.get(busy.name());
      if (t != null && t.epoch() == busy.epoch()) {
        long millis =
            Math.max(100, Math.min(busy.retryAfterMillis(), settings.leaseDuration().toMillis()));
        timers.startSingleTimer(
            "take-" + busy.name(),
            new RetryTakeover(busy.name(), busy.epoch()),
            java.time.Duration.ofMillis(millis));
      }
    } else if (msg.result() instanceof StartFailed failed) {
      taking.remove(failed.name());
      try (var log = DaemonLogs.about(failed.name(), failed.epoch())) {
        getContext()
            .getLog()
            .warn("Could not take over daemon [{}]: {}", failed.name(), failed.reason());
      }
    }
    return this;
  }

  private Behavior<Command> onRetryTakeover(RetryTakeover msg) {
    Taking t = taking.get(msg.name());
    if (t != null && t.epoch() == msg.epoch()) {
      startTakeover(msg.name());
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    if (hostSubscription != null) {
      hostSubscription.close();
    }
    return this;
  }
}
