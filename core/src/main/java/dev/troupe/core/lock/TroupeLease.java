package dev.troupe.core.lock;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.troupe.core.Preconditions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.coordination.lease.LeaseSettings;
import org.apache.pekko.coordination.lease.javadsl.Lease;
import org.apache.pekko.coordination.lease.javadsl.LeaseProvider;

/**
 * A Pekko coordination {@link Lease} backed by Troupe's locks, so that Cluster Singletons and the
 * sharding coordinator (and shards) run only where the lock is held. Enable it with one line:
 *
 * <pre>{@code
 * pekko.cluster.singleton.use-lease = "troupe.lease"      # singletons and the shard coordinator
 * pekko.cluster.sharding.use-lease = "troupe.lease"       # every shard
 * }</pre>
 *
 * <p>The lease named by Pekko (for a singleton {@code <system>-singleton-<manager path>}) is the
 * lock id. {@code troupe.lease.registry} chooses the registry: {@code jdbc} (default: the node's
 * {@link JdbcLockRegistry#get}, with its heartbeat and fencing of removed nodes) or {@code
 * in-memory} ({@link InMemoryLockRegistry#shared()}, for nodes in one JVM). {@link #acquire()}
 * never waits for another holder: it answers {@code false} and Pekko retries after {@code
 * pekko.cluster.singleton.lease-retry-interval}. When the lock is lost, the callback given to
 * {@link #acquire(Consumer)} runs and Pekko stops the singleton.
 *
 * @since 0.1.0
 */
public final class TroupeLease extends Lease {
  private final LeaseSettings settings;
  private final LockRegistry registry;
  private final java.util.concurrent.Executor blocking; // database calls stay off actor threads
  private volatile Lock held; // guarded by this for writes

  /**
   * The settings of a Cluster Singleton that runs only under the lease section {@code leasePath}
   * (such as {@code "troupe.lease"}): Pekko's {@code pekko.cluster.singleton} settings of {@code
   * system} with {@code use-lease} and {@code lease-retry-interval} set. An empty {@code leasePath}
   * gives Pekko's settings unchanged (no lease).
   *
   * @throws IllegalArgumentException if an argument is null or {@code retryInterval} not positive
   */
  public static ClusterSingletonSettings singletonSettings(
      ActorSystem<?> system, String leasePath, Duration retryInterval) {
    Preconditions.requireNonNull(system, "system");
    Preconditions.requireNonNull(leasePath, "leasePath");
    Preconditions.requirePositive(retryInterval, "retryInterval");
    Config cluster = system.settings().config().getConfig("pekko.cluster");
    if (!leasePath.isEmpty()) {
      cluster =
          cluster
              .withValue("singleton.use-lease", ConfigValueFactory.fromAnyRef(leasePath))
              .withValue(
                  "singleton.lease-retry-interval",
                  ConfigValueFactory.fromAnyRef(retryInterval.toMillis() + "ms"));
    }
    return ClusterSingletonSettings.fromConfig(cluster);
  }

  /**
   * A check a Cluster Singleton runs under lease {@code leasePath} calls before each act: true
   * while its node holds the lease and still trusts it. Pekko stops a singleton whose lease is
   * lost, but only once the loss is noticed (a heartbeat fails or finds the lock taken); a node
   * resumed from a pause can run the singleton's queued messages before that. This check answers
   * from the holder's own clock — false as soon as the last good heartbeat is older than {@code
   * troupe.lock.heartbeat-interval + heartbeat-timeout}, before anyone else can take the lease — so
   * a singleton that checks it never acts beside its successor.
   *
   * <pre>{@code
   * Behaviors.setup(ctx -> {
   *   BooleanSupplier leased = TroupeLease.singletonLeaseCheck(ctx, "troupe.lease");
   *   ... if (leased.getAsBoolean()) { act(); }
   * })
   * }</pre>
   *
   * <p>Call it from the singleton actor itself (its parent is the singleton manager, whose path
   * names the lease). An empty {@code leasePath} (no lease) gives a check that is always true.
   *
   * @throws IllegalArgumentException if an argument is null
   */
  public static BooleanSupplier singletonLeaseCheck(ActorContext<?> ctx, String leasePath) {
    Preconditions.requireNonNull(ctx, "ctx");
    Preconditions.requireNonNull(leasePath, "leasePath");
    if (leasePath.isEmpty()) {
      return () -> true;
    }
    ActorSystem<?> system = ctx.getSystem();
    // As ClusterSingletonManager names it: <system>-singleton-<manager path>, owner host:port.
    String leaseName = system.name() + "-singleton-" + ctx.getSelf().path().parent();
    Lease lease =
        LeaseProvider.get(system)
            .getLease(leaseName, leasePath, Cluster.get(system).selfMember().address().hostPort());
    return lease::checkLease;
  }

  /** Pekko's constructor (see {@code pekko.coordination.lease}). */
  public TroupeLease(LeaseSettings settings, ExtendedActorSystem system) {
    this.settings = settings;
    this.blocking = system.dispatchers().lookup("pekko.actor.default-blocking-io-dispatcher");
    String kind = settings.leaseConfig().getString("registry");
    this.registry =
        switch (kind) {
          case "jdbc" -> JdbcLockRegistry.get(Adapter.toTyped(system));
          case "in-memory" -> InMemoryLockRegistry.shared();
          default ->
              throw new IllegalArgumentException(
                  "troupe.lease.registry must be \"jdbc\" or \"in-memory\", got: [" + kind + "]");
        };
  }

  @Override
  public LeaseSettings getSettings() {
    return settings;
  }

  @Override
  public CompletionStage<Boolean> acquire() {
    return acquire(reason -> {});
  }

  @Override
  public CompletionStage<Boolean> acquire(Consumer<Optional<Throwable>> leaseLostCallback) {
    return CompletableFuture.supplyAsync(
        () -> {
          synchronized (this) {
            if (held != null && held.isHeld()) {
              return true;
            }
            Optional<Lock> lock = registry.tryAcquire(settings.leaseName());
            lock.ifPresent(
                l -> {
                  held = l;
                  l.onLost(
                      () ->
                          leaseLostCallback.accept(
                              Optional.of(
                                  new IllegalStateException(
                                      "lease ["
                                          + settings.leaseName()
                                          + "] lost (token "
                                          + l.fencingToken()
                                          + ")"))));
                });
            return lock.isPresent();
          }
        },
        blocking);
  }

  @Override
  public CompletionStage<Boolean> release() {
    Lock lock;
    synchronized (this) {
      lock = held;
      held = null;
    }
    if (lock == null) {
      return CompletableFuture.completedFuture(false);
    }
    boolean wasHeld = lock.isHeld();
    // A JDBC release is a database round trip: keep it off the caller (an actor of Pekko's).
    return CompletableFuture.supplyAsync(() -> lock.release(), blocking)
        .thenCompose(stage -> stage)
        .thenApply(done -> wasHeld);
  }

  @Override
  public boolean checkLease() {
    Lock lock = held;
    return lock != null && lock.isHeld();
  }

  /** The fencing token of the current holding, if this lease holds its lock. */
  public Optional<Long> fencingToken() {
    Lock lock = held;
    return lock != null && lock.isHeld() ? Optional.of(lock.fencingToken()) : Optional.empty();
  }
}
