package dev.troupe.daemons;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.Names;
import dev.troupe.core.TroupeNode;
import dev.troupe.core.WorkerEntry;
import dev.troupe.core.WorkerGroup;
import dev.troupe.core.lock.TroupeLease;
import dev.troupe.core.storage.Storage;
import dev.troupe.daemons.internal.DaemonArgs;
import dev.troupe.daemons.internal.DaemonHost;
import dev.troupe.daemons.internal.DaemonLeader;
import dev.troupe.daemons.internal.DaemonLogs;
import dev.troupe.daemons.internal.DaemonMeters;
import dev.troupe.daemons.internal.DaemonStore;
import dev.troupe.daemons.internal.DaemonsSettings;
import dev.troupe.daemons.internal.LeaseBoard;
import dev.troupe.daemons.internal.SpawnHost;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.pattern.StatusReply;

/**
 * Named long-running actors — a projection, an importer, {@code worker.A} — that run exactly once
 * somewhere in the cluster, come back when their node dies, and come back from a list the
 * application owns. A leader (a Cluster Singleton under {@code troupe.daemons.leader-lease}) places
 * every daemon on the ring and keeps it running; one {@code Daemons} per node, a Pekko extension.
 *
 * <pre>{@code
 * Daemons daemons = Daemons.get(node);                          // on every node
 * daemons.registerLauncher("importer",
 *     Launcher.of(Importer.Command.class, spec -> Importer.create(spec))
 *         .withRecovery(() -> importerTable.pages()));          // the importers that should run
 * ActorRef<Importer.Command> a =
 *     daemons.spawner("importer", Importer.Command.class).spawnRegister("importer-a", "s3://a")
 *         .toCompletableFuture().join();                        // idempotent per name
 * daemons.running();                                            // name -> node, epoch
 * }</pre>
 *
 * <p><b>Guarantees.</b> A daemon is placed on {@code HashRing.pick(name)} over the nodes that host
 * daemons (every node that called {@code Daemons.get}): with every node hosting, the node {@code
 * addressBook().pickNode(name)} names. Each placement raises its <i>epoch</i>, a fencing token in
 * the lock layer's table, so an old instance on a paused or cut-off node is fenced: its writes
 * checked against the epoch fail, and when its node reports again the leader stops it. When a node
 * becomes unreachable its daemons are placed anew at once (the epoch makes that safe before the
 * node is downed), and if that node hosted the leader itself, the other hosts take its daemons over
 * from the lease table without waiting for a new leader; when it leaves gracefully they are handed
 * over first; when nodes join, a bounded number move per interval. A new leader adopts what runs
 * (no restarts) and starts what should run and does not, from the launchers' scanners and the
 * spawned daemons it finds in the database. Daemons started with {@link Spawner#spawnRegister} are
 * recorded there; the application's scanners are the source of truth for the others. A daemon that
 * stops by itself is started again; one that fails is restarted on its node with backoff.
 *
 * @since 0.1.0
 */
public final class Daemons implements Extension {
  private static final Id ID = new Id();

  /** The worker group every node's daemon host joins. */
  static final WorkerGroup<DaemonHost.Command> HOSTS =
      WorkerGroup.of("troupe-daemon-hosts", DaemonHost.Command.class);

  /** The worker group every node's spawn host joins. */
  static final WorkerGroup<SpawnHost.Command> SPAWN_HOSTS =
      WorkerGroup.of("troupe-spawn-hosts", SpawnHost.Command.class);

  private final ActorSystem<?> system;
  private final Map<String, Launcher<?>> launchers = new ConcurrentHashMap<>();
  private final LeaseBoard leases = new LeaseBoard();
  private DaemonsSettings settings; // set by start, under this
  private ActorRef<DaemonLeader.Command> leader; // set by start, under this
  private TroupeNode node; // set by start, under this

  private Daemons(ActorSystem<?> system) {
    this.system = system;
  }

  /**
   * The daemons of {@code node}; the first call on a node starts its daemon host and its share of
   * the leader singleton. Call it on every node that should run daemons.
   *
   * @throws IllegalArgumentException if {@code node} is null
   */
  public static Daemons get(TroupeNode node) {
    requireNonNull(node, "node");
    Daemons daemons = ID.apply(node.system());
    daemons.start(node);
    return daemons;
  }

  private synchronized void start(TroupeNode node) {
    if (leader != null) {
      return;
    }
    settings = DaemonsSettings.fromConfig(system.settings().config());
    DaemonsSettings s = settings;
    Storage storage = Storage.get(system);
    DaemonStore store =
        new DaemonStore(
            storage,
            node.namespace(),
            system.settings().config().getString("troupe.lock.namespace"));

    DaemonMeters meters = new DaemonMeters(node.meterRegistry());
    ActorRef<DaemonLeader.Command> proxy =
        ClusterSingleton.get(system)
            .init(
                SingletonActor.of(
                        Behaviors.supervise(
                                DaemonLogs.onNode(
                                    DaemonLeader.Command.class,
                                    node.name(),
                                    DaemonLeader.create(
                                        s,
                                        launchers,
                                        store,
                                        listener -> node.registry().subscribe(HOSTS, listener),
                                        meters)))
                            .onFailure(SupervisorStrategy.restart()),
                        "troupe-daemon-leader")
                    .withSettings(
                        TroupeLease.singletonSettings(
                            system, s.leaderLease(), s.leaseRetryInterval())));
    leader = proxy;

    ActorRef<DaemonHost.Command> host =
        system.systemActorOf(
            DaemonHost.create(
                node,
                launchers,
                why -> proxy,
                s,
                store,
                listener -> node.registry().subscribe(HOSTS, listener),
                leases,
                meters),
            "troupeDaemonHost",
            Props.empty());
    node.registry().register(HOSTS, host);
    ActorRef<SpawnHost.Command> spawnHost =
        system.systemActorOf(
            SpawnHost.create(launchers, node.addressBook()), "troupeSpawnHost", Props.empty());
    node.registry().register(SPAWN_HOSTS, spawnHost);
    this.node = node;

    // When the node stops without a hand-over (it was downed: the leader is elsewhere and
    // unreachable), its daemons stop and release their leases before the cluster shuts down, not
    // when the actor system finally terminates: a successor need not wait for the lease expiry.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeClusterShutdown(),
            "troupe-daemons-stop-local",
            () ->
                AskPattern.<DaemonHost.Command, Done>ask(
                        host, DaemonHost.StopAll::new, s.handOverTimeout(), system.scheduler())
                    .exceptionally(e -> Done.getInstance()));

    String self = node.address().toString();
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "troupe-daemons-hand-over",
            () ->
                AskPattern.<DaemonLeader.Command, Done>ask(
                        proxy,
                        replyTo -> new DaemonLeader.HandOver(self, replyTo),
                        s.handOverTimeout(),
                        system.scheduler())
                    .exceptionally(e -> Done.getInstance()));
  }

  /**
   * Registers {@code launcher} under {@code name} on this node; do it on every node, with the same
   * launchers (before or after the node joined). A launcher registered after the leader started is
   * scanned at the next re-scan.
   *
   * @param name the launcher's name, a {@linkplain Names name}: {@value Names#RULE}
   * @throws IllegalArgumentException if an argument is null, {@code name} is not a valid name (the
   *     message names the value and the rule), or a launcher of that name is already registered on
   *     this node
   */
  public <M> void registerLauncher(String name, Launcher<M> launcher) {
    Names.require(name, "launcher name");
    requireNonNull(launcher, "launcher");
    Launcher<?> previous = launchers.putIfAbsent(name, launcher);
    if (previous != null) {
      throw new IllegalArgumentException(
          "a launcher named [" + name + "] is already registered on this node");
    }
  }

  /**
   * The spawner of launcher {@code launcherName}, whose daemons take {@code protocol}.
   *
   * @throws IllegalArgumentException if an argument is null, or the launcher is not registered on
   *     this node or has another protocol
   */
  public <M> Spawner<M> spawner(String launcherName, Class<M> protocol) {
    requireNonBlank(launcherName, "launcher name");
    requireNonNull(protocol, "protocol");
    Launcher<?> launcher = launchers.get(launcherName);
    if (launcher == null) {
      throw new IllegalArgumentException(
          "no launcher [" + launcherName + "] is registered on this node: " + launchers.keySet());
    }
    if (!launcher.protocol().equals(protocol)) {
      throw new IllegalArgumentException(
          "launcher ["
              + launcherName
              + "] runs ["
              + launcher.protocol().getName()
              + "], not ["
              + protocol.getName()
              + "]");
    }
    return (daemonName, args) -> spawn(launcherName, daemonName, args);
  }

  @SuppressWarnings("unchecked")
  private <M> CompletionStage<ActorRef<M>> spawn(String launcher, String name, Object... args) {
    Names.require(name, "daemon name");
    List<Object> values;
    try {
      values = DaemonArgs.normalize(name, args == null ? List.of() : Arrays.asList(args));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    return AskPattern.<DaemonLeader.Command, ActorRef<Object>>askWithStatus(
            leader,
            replyTo -> new DaemonLeader.Spawn(launcher, name, values, replyTo),
            settings.askTimeout(),
            system.scheduler())
        .thenApply(ref -> (ActorRef<M>) (ActorRef<?>) ref);
  }

  /**
   * Starts an actor of launcher {@code launcherName} on the node {@code
   * node.addressBook().pickNode(name)} names, registers it in the address book under {@code name}
   * and completes with its ref: ergo's {@code ForwardSpawn} with {@code SpawnRegister}. The
   * launcher's factory gets a {@link DaemonSpec} with {@code name}, {@code args} (JSON values, as
   * for {@link Spawner#spawnRegister}) and epoch 0. Unlike a daemon, the actor has no epoch, no
   * lease and is not kept alive: when it stops (or its node goes), the name is free again.
   *
   * @return the actor, or a stage failed with {@link IllegalStateException} if {@code name} is held
   *     already (by any actor, on any node: the message names the node), the picked node's address
   *     book could not tell within 5 s whether it is free (it settles after a membership change),
   *     or the picked node has no such launcher, {@link IllegalArgumentException} if the arguments
   *     are not JSON-serializable, or {@link java.util.concurrent.TimeoutException} if the picked
   *     node does not answer within {@code troupe.daemons.ask-timeout}
   * @throws IllegalArgumentException if an argument is null, {@code name} is not a valid
   *     {@linkplain Names name} (the message names the value and the rule), or the launcher is not
   *     registered on this node or has another protocol
   * @since 0.3.0
   */
  @SuppressWarnings("unchecked")
  public <M> CompletionStage<ActorRef<M>> forwardSpawn(
      String launcherName, Class<M> protocol, String name, Object... args) {
    spawner(launcherName, protocol); // the same checks: registered here, same protocol
    Names.require(name, "forwardSpawn name");
    List<Object> values;
    try {
      values = DaemonArgs.normalize(name, args == null ? List.of() : Arrays.asList(args));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    TroupeNode self;
    synchronized (this) {
      self = node;
    }
    Address target = self.addressBook().pickNode(name);
    Optional<ActorRef<SpawnHost.Command>> host =
        self.registry().workers(SPAWN_HOSTS).stream()
            .filter(w -> w.node().equals(target))
            .map(WorkerEntry::ref)
            .findFirst();
    if (host.isEmpty()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException(
              "the node picked for [" + name + "], " + target + ", runs no daemons (Daemons.get)"));
    }
    return AskPattern.<SpawnHost.Command, ActorRef<Object>>askWithStatus(
            host.get(),
            replyTo -> new SpawnHost.Spawn(launcherName, name, values, replyTo),
            settings.askTimeout(),
            system.scheduler())
        .<ActorRef<M>>thenApply(ref -> (ActorRef<M>) (ActorRef<?>) ref)
        .exceptionallyCompose(
            e -> {
              Throwable cause = e instanceof CompletionException ? e.getCause() : e;
              return CompletableFuture.failedFuture(
                  cause instanceof StatusReply.ErrorMessage
                      ? new IllegalStateException(cause.getMessage())
                      : cause);
            });
  }

  /** The running daemons, by name, as the leader knows them. */
  public CompletionStage<Map<String, DaemonInfo>> running() {
    return AskPattern.<DaemonLeader.Command, DaemonLeader.RunningDaemons>ask(
            leader, DaemonLeader.GetRunning::new, settings.askTimeout(), system.scheduler())
        .thenApply(DaemonLeader.RunningDaemons::daemons);
  }

  /**
   * Stops daemon {@code daemonName} and forgets it (a spawned daemon is removed from the database;
   * one that a scanner lists comes back at the next re-scan unless the application removes it from
   * its list). Takes any non-blank name, not only one that follows {@link Names}: a daemon stored
   * by an earlier version under a name the rule now refuses can still be removed.
   *
   * @throws IllegalArgumentException if {@code daemonName} is null or blank
   */
  public CompletionStage<Done> stop(String daemonName) {
    requireNonBlank(daemonName, "daemon name");
    return AskPattern.ask(
        leader,
        replyTo -> new DaemonLeader.StopDaemon(daemonName, replyTo),
        settings.askTimeout(),
        system.scheduler());
  }

  /**
   * Whether daemon instance {@code spec} — one running on this node, as its behavior got it — may
   * still act: this node holds the daemon's lease for that epoch and trusts it (renewed within
   * {@code lease-duration − lease-safety-margin}, by this node's monotonic clock). A daemon that
   * acts outside the cluster checks it right before each action: after a pause, a partition from
   * the database or a lost lease it is false before the lease can expire and a successor start, so
   * two instances never act at the same moment. An action already under way when the trust runs out
   * is what the epoch fences ({@code JdbcLockRegistry.requireCurrentToken}).
   *
   * @throws IllegalArgumentException if {@code spec} is null
   */
  public boolean holdsLease(DaemonSpec spec) {
    requireNonNull(spec, "spec");
    return leases.holds(spec.name(), spec.epoch());
  }

  /**
   * Until when (wall clock, by this node) this node trusts the lease of daemon instance {@code
   * spec}, or empty when it does not hold it (for that epoch) or no longer trusts it.
   *
   * @throws IllegalArgumentException if {@code spec} is null
   */
  public Optional<Instant> leaseTrustedUntil(DaemonSpec spec) {
    requireNonNull(spec, "spec");
    long until = leases.trustedUntilNanos(spec.name(), spec.epoch());
    long left = until - System.nanoTime();
    if (until == Long.MIN_VALUE || left <= 0) {
      return Optional.empty();
    }
    return Optional.of(Instant.now().plusNanos(left));
  }

  /** How long this node's requests wait for the leader. */
  public Duration askTimeout() {
    return settings.askTimeout();
  }

  static final class Id extends ExtensionId<Daemons> {
    @Override
    public Daemons createExtension(ActorSystem<?> system) {
      return new Daemons(system);
    }
  }
}
