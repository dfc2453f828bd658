package dev.troupe.daemons.internal;

import dev.troupe.core.HashRing;
import dev.troupe.core.Names;
import dev.troupe.core.Subscription;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerState;
import dev.troupe.daemons.DaemonInfo;
import dev.troupe.daemons.DaemonSpec;
import dev.troupe.daemons.Launcher;
import dev.troupe.daemons.internal.Placement.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;

/** INTERNAL API. The daemon leader: a Cluster Singleton that keeps every daemon running once. */
public final class DaemonLeader extends AbstractBehavior<DaemonLeader.Command> {
  /*
   * Design notes.
   *
   * Who runs where: every node's DaemonHost registers in the worker group "troupe-daemon-hosts";
   * the leader subscribes to it. The hosts that are ACTIVE and reachable make the ring, and a
   * daemon is placed on ring.pick(name) - with every node hosting daemons that is
   * addressBook().pickNode(name), so a key's daemon lands where its fleet worker and cron job do.
   *
   * Taking over: a new leader asks every host what runs there and adopts it (no restart of a
   * healthy daemon), loads the spawned daemons from the database and runs every launcher's
   * recovery scanner; after the reports (or report-timeout) it places whatever should run and does
   * not. Requests that arrive meanwhile are stashed. These are the two phases: ADOPTING (what it
   * waits for is an Adoption) and LEADING.
   *
   * The rules - which reported instance to adopt or stop, which daemon is orphaned, missing from a
   * report, to be moved or handed over - are the pure Placement; this actor does the I/O around
   * them.
   *
   * Placing: raise the daemon's epoch in the database (the lock layer's fencing token
   * "daemon:<name>"), then ask the chosen host to Start it with that epoch, again every
   * start-timeout until it answers or leaves the ring (then the daemon is placed anew). Because
   * every placement has a new, larger epoch, an old instance on a node that was only unreachable
   * or paused is fenced: its writes carry a stale epoch, and when its node reports again the leader
   * stops it (a duplicate: the lower epoch loses; logged and counted).
   *
   * Reacting: a host that leaves the reachable set (unreachable, downed, left) has its daemons
   * placed anew at once - on the cluster event, not on a timer; the epoch makes this safe before
   * the node is downed. A leaving node asks for a hand-over first (each daemon stopped there, then
   * started on its new owner). A daemon that stops by itself is started again. When nodes join,
   * every rebalance-interval at most rebalance-max-moves daemons move to their new ring owner,
   * each stopped before it starts anew. Every rescan-interval the leader runs the scanners again
   * and asks every host for a report, which heals daemons that stopped unnoticed and stops
   * duplicates. A launcher that is unknown on the chosen node makes the daemon FAILED (retried at
   * the next re-scan); a scanner that throws is retried with backoff; neither stops the leader.
   *
   * Names: a scanned daemon whose name breaks the Names rule is skipped with a warning at each
   * scan (spawnRegister refuses such a name at the API). Names stored by an earlier version, under
   * a looser rule (spawned daemons, leases), are not checked here: the host refuses to start one
   * with StartFailed naming the rule, so it is FAILED until Daemons.stop removes it.
   */

  /** The protocol of the daemon leader. */
  public sealed interface Command {}

  /** Runs daemon {@code name} of {@code launcher}, or answers the running instance. */
  public record Spawn(
      String launcher,
      String name,
      List<Object> args,
      ActorRef<StatusReply<ActorRef<Object>>> replyTo)
      implements Command, TroupeSerializable {}

  /** Stops daemon {@code name} and forgets it. */
  public record StopDaemon(String name, ActorRef<Done> replyTo)
      implements Command, TroupeSerializable {}

  /** Asks for the running daemons. */
  public record GetRunning(ActorRef<RunningDaemons> replyTo)
      implements Command, TroupeSerializable {}

  /** The running daemons by name. */
  public record RunningDaemons(Map<String, DaemonInfo> daemons) implements TroupeSerializable {}

  /** A leaving node asks for its daemons to be moved before it stops. */
  public record HandOver(String node, ActorRef<Done> replyTo)
      implements Command, TroupeSerializable {}

  /** A host's daemon stopped by itself. */
  public record Terminated(String name, long epoch, String node)
      implements Command, TroupeSerializable {}

  /**
   * A host took daemon {@code name} over while this leader's node was unreachable (see Takeover):
   * it runs there as {@code ref} at {@code epoch}.
   */
  public record TookOver(
      String name, String launcher, long epoch, String node, ActorRef<Object> ref)
      implements Command, TroupeSerializable {}

  private record HostsChanged(List<WorkerEntry<DaemonHost.Command>> hosts) implements Command {}

  private record Reported(DaemonHost.Running running) implements Command {}

  private enum ReportsDue implements Command {
    INSTANCE
  }

  private record Scanned(String launcher, List<DaemonSpec> specs, Throwable failure, int attempt)
      implements Command {}

  private record SpawnedLoaded(
      List<DaemonStore.Spawned> spawned, Map<String, Long> epochs, Throwable failure)
      implements Command {}

  private record Loaded(List<DaemonStore.Spawned> spawned, Map<String, Long> epochs) {}

  private record EpochRaised(String name, long epoch, Throwable failure) implements Command {}

  private record StartAnswered(
      String name, long epoch, String node, DaemonHost.StartResult result, Throwable failure)
      implements Command {}

  private record StopAnswered(String name, long epoch) implements Command {}

  private record Retry(String name) implements Command {}

  /** Ask the chosen node again to start {@code name} at {@code epoch} (its lease was busy). */
  private record ResendStart(String name, long epoch, String node) implements Command {}

  private record RetryScan(String launcher, int attempt) implements Command {}

  private enum LoadSpawned implements Command {
    INSTANCE
  }

  private enum RescanTick implements Command {
    INSTANCE
  }

  private enum RebalanceTick implements Command {
    INSTANCE
  }

  /** The leader's phases: it adopts what runs before it places anything, then leads. */
  private enum Phase {
    /** Waiting for the hosts' view, their reports, the scans and the spawned daemons. */
    ADOPTING,
    /** Placing, moving, healing; answering requests. */
    LEADING
  }

  /** The leader's record of one daemon. */
  private static final class Daemon {
    final String name;
    final String launcher;
    final List<Object> args;
    final boolean spawned;
    Status status = Status.UNPLACED;
    String node;
    long epoch;
    ActorRef<Object> ref;
    String lastError;
    long runningSince; // the leader's sequence number when it learned the daemon runs
    long lostNanos; // when the leader noticed its instance was lost; 0: not lost
    String lostCause;
    final List<ActorRef<StatusReply<ActorRef<Object>>>> waiting = new ArrayList<>();

    Daemon(String name, String launcher, List<Object> args, boolean spawned) {
      this.name = name;
      this.launcher = launcher;
      this.args = args;
      this.spawned = spawned;
    }

    Placement.Known known() {
      return new Placement.Known(status, node, epoch);
    }
  }

  private final DaemonsSettings settings;
  private final Map<String, Launcher<?>> launchers;
  private final DaemonStore store;
  private final Executor blocking;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final Subscription hostSubscription;
  private final DaemonMeters meters;

  private final Map<String, Daemon> daemons = new HashMap<>();
  private final Map<String, ActorRef<DaemonHost.Command>> hosts = new HashMap<>(); // reachable
  private final Set<String> active = new HashSet<>(); // reachable hosts that are not leaving
  private HashRing ring = HashRing.of(List.of());
  private final Map<String, List<ActorRef<Done>>> handOvers = new HashMap<>();

  // take-over bookkeeping
  private Phase phase = Phase.ADOPTING;
  private final Adoption adoption;
  // A report tells what ran when the host answered it; a daemon the leader learned of later is not
  // "missing" from an earlier report. Sequence numbers order the two.
  private long sequence;
  private final Map<String, Long> reportRequested = new HashMap<>();
  // The highest epoch issued per daemon, from the database at take-over: an instance with a lower
  // one is stale (fenced) and never adopted.
  private final Map<String, Long> issuedEpochs = new HashMap<>();

  private DaemonLeader(
      ActorContext<Command> ctx,
      StashBuffer<Command> stash,
      TimerScheduler<Command> timers,
      DaemonsSettings settings,
      Map<String, Launcher<?>> launchers,
      DaemonStore store,
      Function<Consumer<List<WorkerEntry<DaemonHost.Command>>>, Subscription> subscribeHosts,
      DaemonMeters meters) {
    super(ctx);
    this.meters = meters;
    this.stash = stash;
    this.timers = timers;
    this.settings = settings;
    this.launchers = launchers;
    this.store = store;
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    ActorRef<Command> self = ctx.getSelf();
    this.hostSubscription = subscribeHosts.apply(list -> self.tell(new HostsChanged(list)));
    timers.startSingleTimer(ReportsDue.INSTANCE, settings.reportTimeout());
    timers.startTimerWithFixedDelay(RescanTick.INSTANCE, settings.rescanInterval());
    timers.startTimerWithFixedDelay(RebalanceTick.INSTANCE, settings.rebalanceInterval());
    this.adoption = new Adoption(launchers.size());
    loadSpawned();
    for (String launcher : launchers.keySet()) {
      scan(launcher, 1);
    }
    ctx.getLog().info("Daemon leader starting on this node: adopting what runs, then placing");
  }

  /**
   * The leader; {@code subscribeHosts} subscribes a listener to the daemon-host group; {@code
   * meters} records failovers and duplicates.
   */
  public static Behavior<Command> create(
      DaemonsSettings settings,
      Map<String, Launcher<?>> launchers,
      DaemonStore store,
      Function<Consumer<List<WorkerEntry<DaemonHost.Command>>>, Subscription> subscribeHosts,
      DaemonMeters meters) {
    return Behaviors.withStash(
        10_000,
        stash ->
            Behaviors.setup(
                ctx ->
                    Behaviors.withTimers(
                        timers ->
                            new DaemonLeader(
                                    ctx,
                                    stash,
                                    timers,
                                    settings,
                                    launchers,
                                    store,
                                    subscribeHosts,
                                    meters)
                                .adopting())));
  }

  /**
   * The first phase: adopt what the hosts report, learn what should run; requests wait (stashed),
   * nothing is placed, moved or re-scanned. Ends when the {@link Adoption} is complete.
   */
  private Behavior<Command> adopting() {
    return Behaviors.receive(Command.class)
        .onMessage(HostsChanged.class, msg -> adoptionStep(() -> onHostsChanged(msg)))
        .onMessage(Reported.class, msg -> adoptionStep(() -> onReported(msg)))
        .onMessage(ReportsDue.class, msg -> adoptionStep(this::onReportsDue))
        .onMessage(Scanned.class, msg -> adoptionStep(() -> onScanned(msg)))
        .onMessage(RetryScan.class, msg -> adoptionStep(() -> onRetryScan(msg)))
        .onMessage(SpawnedLoaded.class, msg -> adoptionStep(() -> onSpawnedLoaded(msg)))
        .onMessage(LoadSpawned.class, msg -> adoptionStep(this::onLoadSpawned))
        .onMessage(TookOver.class, msg -> adoptionStep(() -> onTookOver(msg)))
        .onMessage(RescanTick.class, msg -> Behaviors.same()) // the take-over scans already
        .onMessage(RebalanceTick.class, msg -> Behaviors.same()) // nothing placed yet
        .onSignal(PostStop.class, this::onPostStop)
        .onAnyMessage(
            msg -> {
              stash.stash(msg); // requests, hand-overs, terminations: once leading
              return Behaviors.same();
            })
        .build();
  }

  /** Runs {@code handler} while adopting; once the adoption is complete, starts leading. */
  private Behavior<Command> adoptionStep(Runnable handler) {
    handler.run();
    if (!adoption.complete()) {
      return Behaviors.same();
    }
    phase = Phase.LEADING;
    getContext()
        .getLog()
        .info(
            "Daemon leader ready: {} daemon(s) known, {} adopted running, {} host(s)",
            daemons.size(),
            daemons.values().stream().filter(d -> d.status == Status.RUNNING).count(),
            hosts.size());
    placeMissing();
    return stash.unstashAll(this);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(HostsChanged.class, this::onHostsChanged)
        .onMessage(Reported.class, this::onReported)
        .onMessageEquals(ReportsDue.INSTANCE, this::onReportsDue)
        .onMessage(Scanned.class, this::onScanned)
        .onMessage(RetryScan.class, this::onRetryScan)
        .onMessage(SpawnedLoaded.class, this::onSpawnedLoaded)
        .onMessage(EpochRaised.class, this::onEpochRaised)
        .onMessage(StartAnswered.class, this::onStartAnswered)
        .onMessage(ResendStart.class, this::onResendStart)
        .onMessage(StopAnswered.class, this::onStopAnswered)
        .onMessage(Retry.class, this::onRetry)
        .onMessage(Terminated.class, this::onTerminated)
        .onMessage(TookOver.class, this::onTookOver)
        .onMessageEquals(RescanTick.INSTANCE, this::onRescan)
        .onMessageEquals(RebalanceTick.INSTANCE, this::onRebalance)
        .onMessage(Spawn.class, this::onSpawn)
        .onMessage(StopDaemon.class, this::onStopDaemon)
        .onMessage(GetRunning.class, this::onGetRunning)
        .onMessage(HandOver.class, this::onHandOver)
        .onMessageEquals(LoadSpawned.INSTANCE, this::onLoadSpawned)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  // ---- take-over ----

  private void loadSpawned() {
    CompletableFuture<Loaded> load =
        CompletableFuture.supplyAsync(() -> new Loaded(store.spawned(), store.epochs()), blocking);
    getContext()
        .pipeToSelf(
            load,
            (loaded, failure) ->
                loaded == null
                    ? new SpawnedLoaded(List.of(), Map.of(), failure)
                    : new SpawnedLoaded(loaded.spawned(), loaded.epochs(), null));
  }

  private void scan(String launcher, int attempt) {
    Launcher<?> l = launchers.get(launcher);
    if (l == null || l.recovery().isEmpty()) {
      getContext().getSelf().tell(new Scanned(launcher, List.of(), null, attempt));
      return;
    }
    CompletableFuture<List<DaemonSpec>> scan =
        CompletableFuture.supplyAsync(
            () -> {
              List<DaemonSpec> specs = new ArrayList<>();
              Iterator<List<DaemonSpec>> pages = l.recovery().get().scan();
              while (pages.hasNext()) {
                specs.addAll(pages.next());
              }
              return specs;
            },
            blocking);
    getContext()
        .pipeToSelf(scan, (specs, failure) -> new Scanned(launcher, specs, failure, attempt));
  }

  private Behavior<Command> onScanned(Scanned msg) {
    if (msg.failure() != null) {
      Duration backoff = backoff(msg.attempt());
      getContext()
          .getLog()
          .warn(
              "Recovery scanner of launcher [{}] failed (attempt {}); retrying in {}: {}",
              msg.launcher(),
              msg.attempt(),
              backoff,
              msg.failure().toString());
      timers.startSingleTimer(
          "scan-" + msg.launcher(), new RetryScan(msg.launcher(), msg.attempt() + 1), backoff);
    } else {
      for (DaemonSpec spec : msg.specs()) {
        try {
          // The scanner is the application's input, as spawnRegister's name is: refused likewise.
          Names.require(spec.name(), "daemon name");
        } catch (IllegalArgumentException e) {
          getContext()
              .getLog()
              .warn(
                  "Recovery scanner of launcher [{}] listed a daemon that is skipped: {}",
                  msg.launcher(),
                  e.getMessage());
          continue;
        }
        Daemon d = daemons.get(spec.name());
        if (d == null) {
          daemons.put(spec.name(), new Daemon(spec.name(), msg.launcher(), spec.args(), false));
        }
      }
    }
    if (msg.attempt() == 1) {
      adoption.scanned();
    }
    if (phase == Phase.LEADING) {
      placeMissing();
    }
    return this;
  }

  private Duration backoff(int attempt) {
    Duration d = settings.scanBackoffMin().multipliedBy(1L << Math.min(attempt - 1, 16));
    return d.compareTo(settings.scanBackoffMax()) > 0 ? settings.scanBackoffMax() : d;
  }

  private Behavior<Command> onRetryScan(RetryScan msg) {
    scan(msg.launcher(), msg.attempt());
    return this;
  }

  private Behavior<Command> onSpawnedLoaded(SpawnedLoaded msg) {
    if (msg.failure() != null) {
      getContext()
          .getLog()
          .warn("Could not load the spawned daemons; retrying: {}", msg.failure().toString());
      timers.startSingleTimer("load-spawned", LoadSpawned.INSTANCE, settings.scanBackoffMin());
    } else {
      for (DaemonStore.Spawned s : msg.spawned()) {
        daemons.computeIfAbsent(s.name(), n -> new Daemon(n, s.launcher(), s.args(), true));
      }
      issuedEpochs.putAll(msg.epochs());
      for (Daemon d : daemons.values()) {
        d.epoch = Math.max(d.epoch, issuedEpochs.getOrDefault(d.name, 0L));
      }
    }
    adoption.spawnedLoaded();
    if (phase == Phase.LEADING) {
      placeMissing();
    }
    return this;
  }

  private Behavior<Command> onLoadSpawned() {
    loadSpawned();
    return this;
  }

  private Behavior<Command> onPostStop(PostStop signal) {
    hostSubscription.close();
    return this;
  }

  private Behavior<Command> onReportsDue() {
    adoption.reportsDue();
    return this;
  }

  // ---- hosts ----

  private Behavior<Command> onHostsChanged(HostsChanged msg) {
    Map<String, ActorRef<DaemonHost.Command>> now = new HashMap<>();
    Set<String> nowActive = new HashSet<>();
    for (WorkerEntry<DaemonHost.Command> entry : msg.hosts()) {
      String node = entry.node().toString();
      now.put(node, entry.ref());
      if (entry.state() == WorkerState.ACTIVE) {
        nowActive.add(node);
      }
    }
    Set<String> gone = new HashSet<>(hosts.keySet());
    gone.removeAll(now.keySet());
    Set<String> appeared = new HashSet<>(now.keySet());
    appeared.removeAll(hosts.keySet());
    hosts.clear();
    hosts.putAll(now);
    if (!nowActive.equals(active)) {
      active.clear();
      active.addAll(nowActive);
      ring = HashRing.of(active);
      getContext().getLog().info("Daemon hosts: {} active of {}", active.size(), hosts.size());
    }
    for (String node : appeared) {
      requestReport(node);
    }
    adoption.hostsKnown();
    if (!gone.isEmpty()) {
      getContext().getLog().info("Daemon hosts gone: {}; placing their daemons anew", gone);
      for (Daemon d : daemons.values()) {
        if (Placement.orphaned(d.known(), gone)) {
          lost(d, DaemonMeters.NODE_LOST);
          d.status = Status.UNPLACED;
          d.ref = null;
        }
      }
      if (phase == Phase.LEADING) {
        placeMissing();
      }
    }
    return this;
  }

  private void requestReport(String node) {
    ActorRef<DaemonHost.Command> host = hosts.get(node);
    if (host == null) {
      return;
    }
    adoption.reportRequested(node);
    reportRequested.put(node, ++sequence);
    getContext()
        .ask(
            DaemonHost.Running.class,
            host,
            settings.reportTimeout(),
            DaemonHost.Report::new,
            (running, failure) ->
                new Reported(running == null ? new DaemonHost.Running(node, null) : running));
  }

  private Behavior<Command> onReported(Reported msg) {
    String node = msg.running().node();
    adoption.reported(node);
    List<DaemonHost.Instance> instances = msg.running().instances();
    if (instances != null) {
      reconcile(node, instances);
    }
    return this;
  }

  /**
   * Adopts, keeps or stops what {@code node} runs, and re-places what it should run but does not.
   */
  private void reconcile(String node, List<DaemonHost.Instance> instances) {
    Set<String> reported = new HashSet<>();
    for (DaemonHost.Instance instance : instances) {
      reported.add(instance.name());
      reconcileInstance(node, instance);
    }
    long requested = reportRequested.getOrDefault(node, 0L);
    for (Daemon d : daemons.values()) {
      if (Placement.missingFromReport(
          d.known(), d.runningSince, node, requested, reported.contains(d.name))) {
        try (var log = DaemonLogs.about(d.name, d.epoch)) {
          getContext()
              .getLog()
              .warn("Daemon [{}] no longer runs on [{}]; placing it anew", d.name, node);
        }
        lost(d, DaemonMeters.MISSING);
        d.status = Status.UNPLACED;
        d.ref = null;
      }
    }
    if (phase == Phase.LEADING) {
      placeMissing();
    }
  }

  /** Adopts, keeps or stops one instance that {@code node} runs (see {@link Placement#judge}). */
  private void reconcileInstance(String node, DaemonHost.Instance instance) {
    Daemon d = daemons.get(instance.name());
    Placement.Verdict verdict =
        Placement.judge(
            d == null ? null : d.known(),
            issuedEpochs.getOrDefault(instance.name(), 0L),
            node,
            instance.epoch());
    switch (verdict) {
      case ADOPT -> {
        if (d == null) {
          d = new Daemon(instance.name(), instance.launcher(), List.of(), false);
          daemons.put(instance.name(), d);
        }
        adopt(d, node, instance);
      }
      case CONFIRM -> running(d, instance.ref());
      case KEEP -> {}
      case SUPERSEDE -> {
        // The node runs a newer instance than the leader knew of (a host took it over while this
        // leader was unreachable): keep it, stop the other.
        if (d.status == Status.RUNNING) {
          stopDuplicate(d.name, d.launcher, d.node, d.epoch);
        }
        adopt(d, node, instance);
      }
      case STOP -> stopDuplicate(instance.name(), instance.launcher(), node, instance.epoch());
    }
  }

  private Behavior<Command> onTookOver(TookOver msg) {
    try (var log = DaemonLogs.about(msg.name(), msg.epoch())) {
      getContext()
          .getLog()
          .info(
              "Daemon [{}] was taken over by [{}] (epoch {}) while this leader was unreachable",
              msg.name(),
              msg.node(),
              msg.epoch());
    }
    reconcileInstance(
        msg.node(), new DaemonHost.Instance(msg.name(), msg.launcher(), msg.epoch(), msg.ref()));
    if (phase == Phase.LEADING) {
      placeMissing();
    }
    return this;
  }

  private void adopt(Daemon d, String node, DaemonHost.Instance instance) {
    d.node = node;
    d.epoch = Math.max(d.epoch, instance.epoch());
    running(d, instance.ref());
  }

  private void stopDuplicate(String name, String launcher, String node, long epoch) {
    ActorRef<DaemonHost.Command> host = hosts.get(node);
    meters.duplicateStopped(launcher);
    try (var log = DaemonLogs.about(name, epoch)) {
      getContext()
          .getLog()
          .warn(
              "Daemon [{}] runs twice: stopping the instance of epoch {} on [{}]",
              name,
              epoch,
              node);
    }
    if (host != null) {
      host.tell(new DaemonHost.Stop(name, epoch, getContext().getSystem().ignoreRef()));
    }
  }

  // ---- placing ----

  private void placeMissing() {
    for (Daemon d : daemons.values()) {
      if (d.status == Status.UNPLACED) {
        place(d);
      }
    }
  }

  private void place(Daemon d) {
    if (active.isEmpty()) {
      d.status = Status.UNPLACED; // placed when a host appears
      return;
    }
    d.status = Status.RAISING;
    String name = d.name;
    CompletableFuture<Long> epoch =
        CompletableFuture.supplyAsync(() -> store.nextEpoch(name), blocking);
    getContext()
        .pipeToSelf(epoch, (e, failure) -> new EpochRaised(name, e == null ? 0 : e, failure));
  }

  private Behavior<Command> onEpochRaised(EpochRaised msg) {
    Daemon d = daemons.get(msg.name());
    if (d == null || d.status != Status.RAISING) {
      return this;
    }
    if (msg.failure() != null) {
      d.status = Status.UNPLACED;
      d.lastError = "could not raise its epoch: " + msg.failure().getMessage();
      try (var log = DaemonLogs.about(d.name, 0)) {
        getContext().getLog().warn("Daemon [{}] {}; retrying", d.name, d.lastError);
      }
      timers.startSingleTimer("retry-" + d.name, new Retry(d.name), settings.scanBackoffMin());
      return this;
    }
    if (active.isEmpty()) {
      d.status = Status.UNPLACED;
      return this;
    }
    d.epoch = msg.epoch();
    d.node = ring.pick(d.name);
    d.status = Status.STARTING;
    sendStart(d);
    return this;
  }

  private void sendStart(Daemon d) {
    ActorRef<DaemonHost.Command> host = hosts.get(d.node);
    if (host == null) {
      d.status = Status.UNPLACED;
      place(d);
      return;
    }
    String name = d.name;
    long epoch = d.epoch;
    String node = d.node;
    DaemonSpec spec = new DaemonSpec(name, d.args, epoch);
    String launcher = d.launcher;
    getContext()
        .ask(
            DaemonHost.StartResult.class,
            host,
            settings.startTimeout(),
            replyTo -> new DaemonHost.Start(launcher, spec, replyTo),
            (result, failure) -> new StartAnswered(name, epoch, node, result, failure));
  }

  private Behavior<Command> onStartAnswered(StartAnswered msg) {
    Daemon d = daemons.get(msg.name());
    if (d == null || !Placement.isCurrentStart(d.known(), msg.epoch(), msg.node())) {
      return this; // an answer to an earlier attempt
    }
    if (msg.failure() != null) {
      if (hosts.containsKey(d.node)) {
        sendStart(d); // no answer yet: ask again until it answers or leaves
      } else {
        d.status = Status.UNPLACED;
        place(d);
      }
    } else if (msg.result() instanceof DaemonHost.Started started) {
      d.epoch = started.epoch();
      running(d, started.ref());
    } else if (msg.result() instanceof DaemonHost.LeaseBusy busy) {
      // Another instance's lease (a node that is unreachable, paused or just stopping it) has not
      // expired or been released yet: ask again when it can have.
      long millis =
          Math.max(100, Math.min(busy.retryAfterMillis(), settings.leaseDuration().toMillis()));
      try (var log = DaemonLogs.about(d.name, d.epoch)) {
        getContext()
            .getLog()
            .debug(
                "Daemon [{}] (epoch {}): lease held by [{}], asking [{}] again in {} ms",
                d.name,
                d.epoch,
                busy.holder(),
                d.node,
                millis);
      }
      timers.startSingleTimer(
          "busy-" + d.name, new ResendStart(d.name, d.epoch, d.node), Duration.ofMillis(millis));
    } else if (msg.result() instanceof DaemonHost.StartFailed failed) {
      d.status = Status.FAILED;
      d.lastError = failed.reason();
      try (var log = DaemonLogs.about(d.name, failed.epoch())) {
        getContext().getLog().warn("Daemon [{}] could not start: {}", d.name, failed.reason());
      }
      for (ActorRef<StatusReply<ActorRef<Object>>> waiter : d.waiting) {
        waiter.tell(StatusReply.error(new IllegalArgumentException(failed.reason())));
      }
      d.waiting.clear();
    }
    return this;
  }

  private Behavior<Command> onResendStart(ResendStart msg) {
    Daemon d = daemons.get(msg.name());
    if (d != null && Placement.isCurrentStart(d.known(), msg.epoch(), msg.node())) {
      sendStart(d); // sendStart re-places it if its node has left meanwhile
    }
    return this;
  }

  /** The leader noticed that {@code d}'s instance is lost: its failover starts (the first time). */
  private void lost(Daemon d, String cause) {
    if (d.lostNanos == 0 && (d.status == Status.RUNNING || d.status == Status.MOVING)) {
      d.lostNanos = System.nanoTime();
      d.lostCause = cause;
    }
  }

  private void running(Daemon d, ActorRef<Object> ref) {
    if (d.lostNanos != 0) {
      meters.failedOver(d.launcher, d.lostCause, System.nanoTime() - d.lostNanos);
      d.lostNanos = 0;
    }
    d.status = Status.RUNNING;
    d.runningSince = ++sequence;
    d.ref = ref;
    d.lastError = null;
    for (ActorRef<StatusReply<ActorRef<Object>>> waiter : d.waiting) {
      waiter.tell(StatusReply.success(ref));
    }
    d.waiting.clear();
    completeHandOvers();
  }

  private Behavior<Command> onRetry(Retry msg) {
    Daemon d = daemons.get(msg.name());
    if (d != null && (d.status == Status.UNPLACED || d.status == Status.FAILED)) {
      d.status = Status.UNPLACED;
      place(d);
    }
    return this;
  }

  private Behavior<Command> onTerminated(Terminated msg) {
    Daemon d = daemons.get(msg.name());
    if (d != null && Placement.isCurrentInstance(d.known(), msg.epoch(), msg.node())) {
      lost(d, DaemonMeters.STOPPED);
      d.status = Status.UNPLACED;
      d.ref = null;
      // Not at once: a daemon that keeps stopping itself must not spin.
      timers.startSingleTimer("retry-" + d.name, new Retry(d.name), settings.restartBackoffMin());
    }
    return this;
  }

  // ---- moving ----

  private Behavior<Command> onRebalance() {
    if (active.size() < 2) {
      return this;
    }
    List<String> moves = Placement.moves(known(), ring, active, settings.rebalanceMaxMoves());
    moves.forEach(name -> move(daemons.get(name)));
    if (!moves.isEmpty()) {
      getContext()
          .getLog()
          .info("Rebalancing: moving {} daemon(s) to their ring owners", moves.size());
    }
    return this;
  }

  /** What the leader knows of every daemon, for the {@link Placement} rules. */
  private Map<String, Placement.Known> known() {
    Map<String, Placement.Known> known = new HashMap<>(daemons.size() * 2);
    daemons.forEach((name, d) -> known.put(name, d.known()));
    return known;
  }

  /** Stops {@code d} where it runs, then places it anew. */
  private void move(Daemon d) {
    ActorRef<DaemonHost.Command> host = hosts.get(d.node);
    d.status = Status.MOVING;
    if (host == null) {
      d.status = Status.UNPLACED;
      place(d);
      return;
    }
    String name = d.name;
    long epoch = d.epoch;
    getContext()
        .ask(
            DaemonHost.Stopped.class,
            host,
            settings.startTimeout(),
            replyTo -> new DaemonHost.Stop(name, epoch, replyTo),
            (stopped, failure) -> new StopAnswered(name, epoch));
  }

  private Behavior<Command> onStopAnswered(StopAnswered msg) {
    Daemon d = daemons.get(msg.name());
    if (d != null && d.status == Status.MOVING && d.epoch == msg.epoch()) {
      d.status = Status.UNPLACED;
      d.ref = null;
      place(d);
    }
    return this;
  }

  private Behavior<Command> onHandOver(HandOver cmd) {
    active.remove(cmd.node());
    ring = HashRing.of(active);
    List<Daemon> leaving = new ArrayList<>();
    for (String name : Placement.handOver(known(), cmd.node())) {
      leaving.add(daemons.get(name));
    }
    getContext()
        .getLog()
        .info("Node [{}] is leaving: handing over {} daemon(s)", cmd.node(), leaving.size());
    if (leaving.isEmpty() || active.isEmpty()) {
      cmd.replyTo().tell(Done.getInstance());
      return this;
    }
    handOvers.computeIfAbsent(cmd.node(), n -> new ArrayList<>()).add(cmd.replyTo());
    leaving.forEach(this::move);
    return this;
  }

  /** Answers the hand-overs whose node runs no daemon any more. */
  private void completeHandOvers() {
    if (handOvers.isEmpty()) {
      return;
    }
    Map<String, Placement.Known> known = known();
    for (String node : List.copyOf(handOvers.keySet())) {
      if (!Placement.stillHosts(known, node)) {
        handOvers.remove(node).forEach(r -> r.tell(Done.getInstance()));
      }
    }
  }

  // ---- periodic healing ----

  private Behavior<Command> onRescan() {
    for (String launcher : launchers.keySet()) {
      scan(launcher, 1);
    }
    for (String node : hosts.keySet()) {
      requestReport(node);
    }
    for (Daemon d : daemons.values()) {
      if (d.status == Status.FAILED) {
        d.status = Status.UNPLACED;
      }
    }
    placeMissing();
    return this;
  }

  // ---- requests ----

  private Behavior<Command> onSpawn(Spawn cmd) {
    Daemon d = daemons.get(cmd.name());
    if (d != null && d.status == Status.RUNNING) {
      cmd.replyTo().tell(StatusReply.success(d.ref));
      return this;
    }
    if (!launchers.containsKey(cmd.launcher())) {
      cmd.replyTo()
          .tell(
              StatusReply.error(
                  new IllegalArgumentException(
                      "no launcher ["
                          + cmd.launcher()
                          + "] is registered (registered: "
                          + launchers.keySet()
                          + ")")));
      return this;
    }
    if (d == null) {
      d = new Daemon(cmd.name(), cmd.launcher(), cmd.args(), true);
      daemons.put(cmd.name(), d);
      DaemonStore.Spawned record = new DaemonStore.Spawned(cmd.name(), cmd.launcher(), cmd.args());
      CompletableFuture.runAsync(() -> store.saveSpawned(record), blocking)
          .whenComplete(
              (ok, failure) -> {
                if (failure != null) {
                  getContext()
                      .getSystem()
                      .log()
                      .warn(
                          "Daemon [{}] runs but was not recorded: a new leader will not restart it:"
                              + " {}",
                          cmd.name(),
                          failure.toString());
                }
              });
    }
    d.waiting.add(cmd.replyTo());
    if (d.status == Status.UNPLACED || d.status == Status.FAILED) {
      d.status = Status.UNPLACED;
      place(d);
    }
    return this;
  }

  private Behavior<Command> onStopDaemon(StopDaemon cmd) {
    Daemon d = daemons.remove(cmd.name());
    if (d != null) {
      ActorRef<DaemonHost.Command> host = d.node == null ? null : hosts.get(d.node);
      if (host != null) {
        host.tell(new DaemonHost.Stop(d.name, d.epoch, getContext().getSystem().ignoreRef()));
      }
      if (d.spawned) {
        String name = d.name;
        CompletableFuture.runAsync(() -> store.deleteSpawned(name), blocking);
      }
      for (ActorRef<StatusReply<ActorRef<Object>>> waiter : d.waiting) {
        waiter.tell(StatusReply.error("daemon [" + d.name + "] was stopped"));
      }
      try (var log = DaemonLogs.about(d.name, d.epoch)) {
        getContext().getLog().info("Daemon [{}] stopped on request", d.name);
      }
    }
    cmd.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onGetRunning(GetRunning cmd) {
    Map<String, DaemonInfo> result = new HashMap<>();
    for (Daemon d : daemons.values()) {
      if (d.status == Status.RUNNING) {
        result.put(
            d.name,
            new DaemonInfo(d.name, d.launcher, AddressFromURIString.parse(d.node), d.epoch));
      }
    }
    cmd.replyTo().tell(new RunningDaemons(Map.copyOf(result)));
    return this;
  }
}
