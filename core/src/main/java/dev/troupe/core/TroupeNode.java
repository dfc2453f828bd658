package dev.troupe.core;

import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import com.typesafe.config.Config;
import dev.troupe.core.health.Readiness;
import dev.troupe.core.internal.ClusterFormation;
import dev.troupe.core.internal.CoreExtension;
import dev.troupe.core.internal.NodeConfig;
import dev.troupe.core.internal.NodeHealth;
import dev.troupe.core.internal.NodeHolder;
import dev.troupe.core.internal.NodeMeters;
import dev.troupe.core.internal.StartupChecks;
import dev.troupe.core.internal.WatchActor;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterActorRefProvider;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Troupe cluster node: Troupe's services (registry, address book, and the modules built on them)
 * on one Pekko {@link ActorSystem} in a cluster. Two ways in:
 *
 * <ul>
 *   <li>{@link #attach(ActorSystem)}: the application's own system, with its own guardian, name and
 *       configuration; the application forms the cluster as usual.
 *   <li>{@link #start(NodeOptions)}: the one-call embedded shortcut that creates the system (with
 *       Troupe's Pekko defaults) and joins the seed nodes, or itself.
 * </ul>
 *
 * <pre>{@code
 * try (TroupeNode node = TroupeNode.start(NodeOptions.defaults())) {   // embedded single node
 *   node.whenUp().toCompletableFuture().join();
 *   System.out.println(node.address() + " " + node.members());
 * }
 * }</pre>
 *
 * <p>With no seed nodes a started node joins itself and forms an embedded single-node cluster;
 * other nodes can join it later. {@link #start} returns as soon as the actor system runs and the
 * join is under way; {@link #whenUp()} completes when this node is an Up member.
 *
 * <p>Thread-safe. Closing a started node leaves the cluster gracefully (through Pekko's
 * CoordinatedShutdown: shards and singletons are handed over first) and terminates the system;
 * closing an attached node leaves the application's system alone.
 *
 * @since 0.1.0
 */
public final class TroupeNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TroupeNode.class);

  private final ActorSystem<Void> system;
  private final boolean owned; // started here (close() terminates it) or attached (the app's)
  private final String name;
  private final String namespace;
  private final Duration closeTimeout;
  private final CompletableFuture<TroupeNode> up = new CompletableFuture<>();
  private final CoreExtension core;
  private volatile Optional<URI> managementUri = Optional.empty();

  @SuppressWarnings("unchecked")
  private TroupeNode(ActorSystem<?> system, boolean owned) {
    // The guardian's type is the application's; Troupe never sends to it.
    this.system = (ActorSystem<Void>) system;
    this.owned = owned;
    Config config = system.settings().config();
    String configured = config.getString("troupe.core.node-name");
    Address self = address();
    this.name =
        configured.isEmpty()
            ? self.getHost().orElse("local") + ":" + self.getPort().orElse(0)
            : configured;
    this.namespace = dev.troupe.core.storage.Namespaces.of(config);
    this.closeTimeout = config.getDuration("troupe.core.close-timeout");
    this.core = CoreExtension.get(system);
    dev.troupe.core.storage.internal.StorageExtension.get(system).startFencing();
    org.apache.pekko.cluster.Cluster classic =
        org.apache.pekko.cluster.Cluster.get(system.classicSystem());
    classic.registerOnMemberUp(this::completeUpWhenVisible);
    system
        .getWhenTerminated()
        .thenRun(
            () ->
                up.completeExceptionally(
                    new IllegalStateException(
                        "Troupe node [" + name + "] terminated before it became Up")));
  }

  /**
   * Starts a node: creates its actor system and joins the seed nodes, or itself if there are none.
   *
   * @param options validated options, from {@link NodeOptions#builder()}
   * @return the started node; use {@link #whenUp()} to wait for membership
   * @throws IllegalArgumentException if {@code options} is null, or the configuration is one a
   *     Troupe node refuses to start with (no downing provider, Java serialization on, under {@code
   *     troupe.profile = production} a private H2 database for a multi-node cluster or a TLS
   *     setting that admits unchecked peers); the message names the setting
   * @throws IllegalStateException if the actor system cannot start (for example, the port is in
   *     use); the message names the host and port
   */
  public static TroupeNode start(NodeOptions options) {
    if (options == null) {
      throw new IllegalArgumentException("TroupeNode.start: options must not be null");
    }
    Config config = NodeConfig.build(options);
    boolean hasSeeds =
        !options.seedNodes().isEmpty()
            || !config.getStringList("pekko.cluster.seed-nodes").isEmpty();
    ClusterFormation.Plan plan = ClusterFormation.plan(config, hasSeeds);
    StartupChecks.check(config, hasSeeds || plan.bootstrap());
    ClusterFormation.requireOnClassPath(plan);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), options.systemName(), config);
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "Cannot start Troupe node on "
              + config.getString("pekko.remote.artery.canonical.hostname")
              + ":"
              + config.getInt("pekko.remote.artery.canonical.port")
              + ": "
              + e.getMessage(),
          e);
    }
    ActorSystem<Void> started = system;
    options.meterRegistry().ifPresent(NodeMeters.get(system)::add);
    TroupeNode node = NodeHolder.get(system).node(() -> new TroupeNode(started, true));
    try {
      node.managementUri = ClusterFormation.start(system, plan);
    } catch (RuntimeException e) {
      // Terminates the system without exiting the JVM, even with exit-jvm = on: the caller gets
      // the exception (reference.conf: reason-overrides).
      CoordinatedShutdown.get(system).runAll(ClusterFormation.StartFailed.INSTANCE);
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
      throw e;
    }
    if (!plan.bootstrap()) {
      node.join(options.seedNodes(), config.getStringList("pekko.cluster.seed-nodes"));
    }
    return node;
  }

  /**
   * The Troupe node of an actor system the application created, with its own guardian, system name
   * and {@code application.conf}: Pekko's way of adding a library to an application (an Extension
   * underneath, so every call for one system returns the same node). It may be called from inside
   * the guardian's {@code Behaviors.setup}.
   *
   * <pre>{@code
   * ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
   *   TroupeNode troupe = TroupeNode.attach(ctx.getSystem());
   *   ctx.spawn(Shop.create(troupe.registry()), "shop");
   *   return Behaviors.empty();
   * }), "shop");
   * }</pre>
   *
   * <p>Forming the cluster stays the application's, as in every Pekko application: seed nodes in
   * its configuration, Cluster Bootstrap, or {@code Cluster.get(system).manager()} with {@code
   * Join}; {@code attach} never joins by itself, and {@link #whenUp()} completes when the system's
   * member is Up. {@link #close()} of an attached node leaves the system alone (the application
   * terminates it); Troupe's services stop with the system, and its CoordinatedShutdown drains this
   * node's registrations first. Everything else works as on a {@linkplain #start started} node,
   * whatever the system's name.
   *
   * @throws IllegalArgumentException if {@code system} is null, if its {@code pekko.actor.provider}
   *     is not {@code cluster}, or if its configuration is one Troupe refuses (as for {@link
   *     #start}: no downing provider, Java serialization on, ...); the message names the setting
   * @since 0.2.0
   */
  public static TroupeNode attach(ActorSystem<?> system) {
    return attach(system, null);
  }

  /**
   * {@link #attach(ActorSystem)}, with the application's Micrometer registry: every Troupe meter of
   * the node (names under {@code troupe.}, tagged {@code node}) is registered on it — also those of
   * a node attached before.
   *
   * @param registry the application's registry; null = none (Troupe records nothing)
   * @since 0.3.0
   */
  public static TroupeNode attach(ActorSystem<?> system, MeterRegistry registry) {
    if (system == null) {
      throw new IllegalArgumentException("TroupeNode.attach: system must not be null");
    }
    if (!(system.classicSystem() instanceof ExtendedActorSystem extended)
        || !(extended.provider() instanceof ClusterActorRefProvider)) {
      throw new IllegalArgumentException(
          "TroupeNode.attach: actor system ["
              + system.name()
              + "] has pekko.actor.provider = ["
              + system.settings().config().getString("pekko.actor.provider")
              + "]; Troupe needs a cluster: set pekko.actor.provider = cluster");
    }
    if (registry != null) {
      NodeMeters.get(system).add(registry);
    }
    return NodeHolder.get(system)
        .node(
            () -> {
              Config config = system.settings().config();
              // As for start: a node with seed nodes joins others (a private H2 is then wrong).
              StartupChecks.check(
                  config, !config.getStringList("pekko.cluster.seed-nodes").isEmpty());
              TroupeNode node = new TroupeNode(system, false);
              log.info(
                  "Troupe attached to actor system [{}] at [{}] as node [{}]",
                  system.name(),
                  node.address(),
                  node.name);
              return node;
            });
  }

  private void join(List<Address> seeds, List<String> configuredSeeds) {
    Cluster cluster = Cluster.get(system);
    if (!seeds.isEmpty()) {
      log.info("Troupe node [{}] at [{}] joining seed nodes {}", name, address(), seeds);
      cluster.manager().tell(new JoinSeedNodes(seeds));
    } else if (!configuredSeeds.isEmpty()) {
      // Pekko joins pekko.cluster.seed-nodes by itself.
      log.info(
          "Troupe node [{}] at [{}] joining configured seed nodes {}",
          name,
          address(),
          configuredSeeds);
    } else {
      log.info(
          "Troupe node [{}] at [{}] joining itself (embedded single-node cluster)",
          name,
          address());
      cluster.manager().tell(Join.create(address()));
    }
  }

  /**
   * Completes {@link #whenUp()} once {@link #members()} shows this node Up: Pekko runs the
   * member-up callback before its cluster state view (which {@code members()} reads) has caught up.
   */
  private void completeUpWhenVisible() {
    if (up.isDone()) {
      return;
    }
    if (members().contains(address())) {
      up.complete(this);
      return;
    }
    try {
      system
          .scheduler()
          .scheduleOnce(
              Duration.ofMillis(10), this::completeUpWhenVisible, system.executionContext());
    } catch (IllegalStateException e) {
      // the system is terminating: getWhenTerminated fails the future
    }
  }

  /**
   * The registry every Troupe meter of this node is registered on (names under {@code troupe.}, tag
   * {@code node} = {@link #name()}): a composite that passes them to the application's registry
   * ({@link NodeOptions.Builder#meterRegistry}, {@link #attach(ActorSystem, MeterRegistry)}) and
   * records nothing without one. Modules built on Troupe register their meters here.
   *
   * @since 0.3.0
   */
  public MeterRegistry meterRegistry() {
    return NodeMeters.get(system).registry();
  }

  /**
   * How many remote messages this node has dropped because they exceeded Artery's frame size
   * ({@code pekko.remote.artery.advanced.maximum-frame-size}, 256 KiB): such a message is never
   * delivered; later messages are.
   */
  public long droppedOversizedMessages() {
    return core.droppedOversized();
  }

  /** Whether this node was {@linkplain #attach attached} to the application's own system. */
  public boolean isAttached() {
    return !owned;
  }

  /** The node's actor system. */
  public ActorSystem<Void> system() {
    return system;
  }

  /** The node's name, for logs and the dashboard ({@code troupe.core.node-name} or host:port). */
  public String name() {
    return name;
  }

  /**
   * The namespace of everything this node stores ({@code troupe.namespace}, default {@code
   * default}): the nodes of one cluster share it; another cluster on the same database uses its
   * own. See {@link dev.troupe.core.storage.Namespaces}.
   */
  public String namespace() {
    return namespace;
  }

  /** The node's cluster address, with the real port also when it was started with port 0. */
  public Address address() {
    return Cluster.get(system).selfMember().address();
  }

  /**
   * The addresses of the cluster's Up members, as this node currently sees them.
   *
   * <p>Eventually consistent: right after a change other nodes may briefly disagree.
   */
  public Set<Address> members() {
    Iterable<Member> members = Cluster.get(system).state().getMembers();
    return Collections.unmodifiableSet(
        StreamSupport.stream(members.spliterator(), false)
            .filter(m -> m.status().equals(MemberStatus.up()))
            .map(Member::address)
            .collect(Collectors.toSet()));
  }

  /**
   * Completes with this node when it is an Up member of the cluster; fails if the node terminates
   * first.
   */
  public CompletionStage<TroupeNode> whenUp() {
    return up;
  }

  /**
   * Leaves the cluster gracefully and terminates the actor system through CoordinatedShutdown.
   *
   * <p>Idempotent: every call returns the same stage, completed when the system has terminated.
   */
  public CompletionStage<Done> leave() {
    return CoordinatedShutdown.get(system)
        .runAll(CoordinatedShutdown.clusterLeavingReason())
        .thenCompose(done -> system.getWhenTerminated());
  }

  /**
   * The base URI of the Pekko Management HTTP server this node started ({@code
   * troupe.core.management} or {@code troupe.core.bootstrap} on a {@linkplain #start started}
   * node), with the port it is bound to; empty if it started none (an attached node's application
   * runs Management itself).
   *
   * @since 0.3.0
   */
  public Optional<URI> managementUri() {
    return managementUri;
  }

  /**
   * Whether this node is ready for work, and if not, why: this member is Up, the worker registry
   * and the address book have had their first complete view of the other members, and the storage
   * answers (if the node uses it; {@code troupe.core.health.storage}). The same conditions as Pekko
   * Management's {@code /ready} ({@link dev.troupe.core.health.ReadinessCheck}).
   *
   * @since 0.3.0
   */
  public CompletionStage<Readiness> readiness() {
    return NodeHealth.readiness(system);
  }

  /**
   * For a {@linkplain #start started} node: leaves the cluster and waits, up to {@code
   * troupe.core.close-timeout}, for the system to terminate; after that it terminates the system
   * without waiting further. For an {@linkplain #attach attached} node: nothing; the system is the
   * application's, and Troupe's services run until it terminates.
   */
  @Override
  public void close() {
    if (!owned) {
      log.debug("Troupe node [{}] is attached: close() leaves the application's system", name);
      return;
    }
    try {
      leave().toCompletableFuture().get(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      system.terminate();
    } catch (ExecutionException | TimeoutException e) {
      log.warn(
          "Troupe node [{}] did not leave within {}; terminating: {}",
          name,
          closeTimeout,
          e.toString());
      system.terminate();
    }
  }

  /**
   * The node's worker group registry: Erlang {@code pg} on Pekko.
   *
   * @see WorkerRegistry
   */
  public WorkerRegistry registry() {
    return core.registry();
  }

  /**
   * The node's address book: cluster-wide names of single actors, and {@link
   * AddressBook#pickNode(String)}.
   *
   * @see AddressBook
   */
  public AddressBook addressBook() {
    return core.addressBook();
  }

  /**
   * The node of the actor named {@code name} in the address book; the same as {@code
   * addressBook().locate(name)} (ergo's LocateProcess).
   *
   * @throws IllegalArgumentException if {@code name} is null
   */
  public Optional<Address> locate(String name) {
    return core.addressBook().locate(name);
  }

  /**
   * Asks the actor named {@code name} in the address book and completes with its reply (ergo's
   * ForwardCall).
   *
   * <pre>{@code
   * CompletionStage<Balance> balance =
   *     node.call("billing", replyTo -> new Billing.GetBalance("acct-1", replyTo),
   *         Duration.ofSeconds(3));
   * }</pre>
   *
   * @return a stage failed with {@link NoSuchElementException} if no live actor holds {@code name}
   *     (as this node sees it), or with {@link TimeoutException} naming {@code name} if no reply
   *     arrives within {@code timeout}
   * @throws IllegalArgumentException if an argument is null or {@code timeout} not positive
   */
  public <M, R> CompletionStage<R> call(
      String name, Function<ActorRef<R>, M> message, Duration timeout) {
    requireNonNull(name, "name");
    requireNonNull(message, "message");
    requirePositive(timeout, "timeout");
    Optional<ActorRef<Object>> target = core.addressBook().lookupAny(name);
    if (target.isEmpty()) {
      return CompletableFuture.failedFuture(unknownName("call", name));
    }
    CompletableFuture<R> result = new CompletableFuture<>();
    AskPattern.<Object, R>ask(
            target.get(), replyTo -> message.apply(replyTo), timeout, system.scheduler())
        .whenComplete(
            (reply, failure) -> {
              if (failure == null) {
                result.complete(reply);
              } else if (failure instanceof TimeoutException
                  || failure.getCause() instanceof TimeoutException) {
                TimeoutException timedOut =
                    new TimeoutException(
                        "TroupeNode.call: [" + name + "] did not reply within " + timeout);
                timedOut.initCause(failure);
                result.completeExceptionally(timedOut);
              } else {
                result.completeExceptionally(failure);
              }
            });
    return result;
  }

  /**
   * Sends {@code message} to the actor named {@code name} in the address book (ergo's ForwardSend).
   *
   * @return a stage completed once the message is sent, or failed with {@link
   *     NoSuchElementException} if no live actor holds {@code name} as this node sees it: never a
   *     silent loss of an unroutable message
   * @throws IllegalArgumentException if an argument is null
   */
  public <M> CompletionStage<Done> send(String name, M message) {
    requireNonNull(name, "name");
    requireNonNull(message, "message");
    Optional<ActorRef<Object>> target = core.addressBook().lookupAny(name);
    if (target.isEmpty()) {
      return CompletableFuture.failedFuture(unknownName("send", name));
    }
    target.get().tell(message);
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  /**
   * Completes when {@code ref} stops (ergo's WaitPID); for a remote actor also when its node is
   * removed from the cluster. Completes at once for an actor that has already stopped.
   *
   * @throws IllegalArgumentException if {@code ref} is null
   */
  public CompletionStage<Done> watch(ActorRef<?> ref) {
    requireNonNull(ref, "ref");
    CompletableFuture<Done> done = new CompletableFuture<>();
    core.watcher().tell(new WatchActor.Watch(ref, done));
    return done;
  }

  private static NoSuchElementException unknownName(String operation, String name) {
    return new NoSuchElementException(
        "TroupeNode." + operation + ": no live actor is named [" + name + "] in the address book");
  }

  @Override
  public String toString() {
    return "TroupeNode(" + name + ", " + address() + ")";
  }
}
