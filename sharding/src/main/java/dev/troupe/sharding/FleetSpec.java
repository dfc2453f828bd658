package dev.troupe.sharding;

import static dev.troupe.core.Preconditions.requireArgument;
import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import dev.troupe.core.HashRing;
import dev.troupe.core.Names;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;

/**
 * What a {@link WorkerFleet} runs: its name, the protocol of its workers, how to make the worker of
 * a key, and how workers live and die. Immutable; {@code withX} returns a copy.
 *
 * <pre>{@code
 * FleetSpec<Cart.Command> carts =
 *     FleetSpec.of("carts", Cart.Command.class, key -> Cart.create(key, repository))
 *         .withIdleTimeout(Duration.ofMinutes(5))      // passivate after 5 idle minutes ...
 *         .withIdleJitter(Duration.ofSeconds(30))      // ... spread over 30 s
 *         .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(10));
 * WorkerFleet<Cart.Command> fleet = WorkerFleet.start(node, carts);
 * }</pre>
 *
 * <p>Options left unset take their defaults from {@code troupe.sharding.fleet} in configuration
 * when the fleet starts.
 *
 * @param <M> the workers' protocol
 * @since 0.1.0
 */
public final class FleetSpec<M> {
  /** The longest fleet name accepted: {@value}. */
  public static final int MAX_NAME_LENGTH = 100;

  private final String name;
  private final Class<M> protocol;
  private final Function<String, Behavior<M>> factory;
  private final Optional<Duration> idleTimeout;
  private final Optional<Duration> idleJitter;
  private final Optional<Duration> minBackoff;
  private final Optional<Duration> maxBackoff;
  private final int shards;
  private final Optional<String> role;
  private final Optional<M> stopMessage;
  private final Optional<MeterRegistry> meterRegistry;

  private FleetSpec(
      String name,
      Class<M> protocol,
      Function<String, Behavior<M>> factory,
      Optional<Duration> idleTimeout,
      Optional<Duration> idleJitter,
      Optional<Duration> minBackoff,
      Optional<Duration> maxBackoff,
      int shards,
      Optional<String> role,
      Optional<M> stopMessage,
      Optional<MeterRegistry> meterRegistry) {
    this.name = name;
    this.protocol = protocol;
    this.factory = factory;
    this.idleTimeout = idleTimeout;
    this.idleJitter = idleJitter;
    this.minBackoff = minBackoff;
    this.maxBackoff = maxBackoff;
    this.shards = shards;
    this.role = role;
    this.stopMessage = stopMessage;
    this.meterRegistry = meterRegistry;
  }

  /**
   * A fleet {@code name} of workers of {@code protocol}, made by {@code factory} from their key.
   *
   * @param name the fleet's name, unique in the cluster: ASCII letters, digits, {@code . _ -},
   *     starting with a letter or digit, at most {@value #MAX_NAME_LENGTH} characters: stricter
   *     than the rule of {@link Names} (which every fleet name follows too), because the name is
   *     also part of an actor name
   * @param protocol the workers' message type
   * @param factory the worker of a key; called on the node the ring picks, again after each crash
   *     (a {@code Behaviors.setup} in it reloads the worker's state)
   * @throws IllegalArgumentException if an argument is null or {@code name} is invalid; the message
   *     names the value and the rule
   */
  public static <M> FleetSpec<M> of(
      String name, Class<M> protocol, Function<String, Behavior<M>> factory) {
    // First the rule of every name (its message shows a control character escaped), then the
    // fleet's stricter one: the name is also part of an actor name, unencoded.
    Names.require(name, "FleetSpec name");
    requireArgument(
        name.length() <= MAX_NAME_LENGTH && name.matches("[A-Za-z0-9][A-Za-z0-9._\\-]*"),
        "FleetSpec name must be 1-"
            + MAX_NAME_LENGTH
            + " ASCII letters, digits, '.', '_' or '-' (starting with a letter or digit), got: ["
            + name
            + "]");
    requireNonNull(protocol, "FleetSpec protocol");
    requireNonNull(factory, "FleetSpec factory");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        HashRing.PARTITIONS,
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /**
   * Passivates a worker after {@code idle} without messages; {@code Duration.ZERO} never
   * passivates. Default {@code troupe.sharding.fleet.idle-timeout}.
   *
   * @throws IllegalArgumentException if {@code idle} is null or negative
   */
  public FleetSpec<M> withIdleTimeout(Duration idle) {
    requireNonNegative(idle, "idle timeout");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        Optional.of(idle),
        idleJitter,
        minBackoff,
        maxBackoff,
        shards,
        role,
        stopMessage,
        meterRegistry);
  }

  /**
   * Spreads passivation: each worker gets its own random extra idle time in {@code [0, jitter]}, so
   * that workers that went idle together do not all stop at once. Default {@code
   * troupe.sharding.fleet.idle-jitter}.
   *
   * @throws IllegalArgumentException if {@code jitter} is null or negative
   */
  public FleetSpec<M> withIdleJitter(Duration jitter) {
    requireNonNegative(jitter, "idle jitter");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        Optional.of(jitter),
        minBackoff,
        maxBackoff,
        shards,
        role,
        stopMessage,
        meterRegistry);
  }

  /**
   * How a worker that fails is restarted: the first failures at once (so it answers again within
   * milliseconds, its state reloaded by its factory), then, while it keeps failing, after a backoff
   * from {@code min} doubling up to {@code max}. Messages that arrive meanwhile are kept and
   * delivered to the restarted worker. Default {@code troupe.sharding.fleet.restart-backoff}.
   *
   * @throws IllegalArgumentException if a duration is null or not positive, or {@code max < min}
   */
  public FleetSpec<M> withRestartBackoff(Duration min, Duration max) {
    requirePositive(min, "restart backoff min");
    requirePositive(max, "restart backoff max");
    requireArgument(
        max.compareTo(min) >= 0,
        "restart backoff max must be >= min, got min " + min + ", max " + max);
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        idleJitter,
        Optional.of(min),
        Optional.of(max),
        shards,
        role,
        stopMessage,
        meterRegistry);
  }

  /**
   * The number of shards; default {@value HashRing#PARTITIONS}, the ring's partitions, with which a
   * key's shard is its ring partition and the fleet places every key exactly where {@code
   * addressBook().pickNode(key)} says. Another number keeps the ring placement of shards but not
   * that colocation. Must be the same on every node.
   *
   * @throws IllegalArgumentException if {@code shards} is not in 1..{@value HashRing#PARTITIONS}
   */
  public FleetSpec<M> withShards(int shards) {
    requireArgument(
        shards >= 1 && shards <= HashRing.PARTITIONS,
        "shards must be in 1.." + HashRing.PARTITIONS + ", got: " + shards);
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        idleJitter,
        minBackoff,
        maxBackoff,
        shards,
        role,
        stopMessage,
        meterRegistry);
  }

  /**
   * Runs the workers only on nodes with cluster role {@code role} (other nodes reach them through a
   * proxy). Colocation with {@code pickNode} then holds only if every node has the role.
   *
   * @throws IllegalArgumentException if {@code role} is null or blank
   */
  public FleetSpec<M> withRole(String role) {
    requireNonBlank(role, "role");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        idleJitter,
        minBackoff,
        maxBackoff,
        shards,
        Optional.of(role),
        stopMessage,
        meterRegistry);
  }

  /**
   * The message a worker gets when it is passivated or handed over to another node, so it can
   * finish and stop itself ({@code Behaviors.stopped()}); without one it is stopped directly.
   *
   * @throws IllegalArgumentException if {@code stop} is null
   */
  public FleetSpec<M> withStopMessage(M stop) {
    requireNonNull(stop, "stop message");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        idleJitter,
        minBackoff,
        maxBackoff,
        shards,
        role,
        Optional.of(stop),
        meterRegistry);
  }

  /**
   * Where the fleet's {@link FleetMetrics} go; default Micrometer's global registry.
   *
   * @throws IllegalArgumentException if {@code registry} is null
   */
  public FleetSpec<M> withMeterRegistry(MeterRegistry registry) {
    requireNonNull(registry, "meter registry");
    return new FleetSpec<>(
        name,
        protocol,
        factory,
        idleTimeout,
        idleJitter,
        minBackoff,
        maxBackoff,
        shards,
        role,
        stopMessage,
        Optional.of(registry));
  }

  /** The fleet's name. */
  public String name() {
    return name;
  }

  /** The workers' protocol. */
  public Class<M> protocol() {
    return protocol;
  }

  /** The worker factory. */
  public Function<String, Behavior<M>> factory() {
    return factory;
  }

  /** The idle timeout, if set. */
  public Optional<Duration> idleTimeout() {
    return idleTimeout;
  }

  /** The idle jitter, if set. */
  public Optional<Duration> idleJitter() {
    return idleJitter;
  }

  /** The restart backoff minimum, if set. */
  public Optional<Duration> minBackoff() {
    return minBackoff;
  }

  /** The restart backoff maximum, if set. */
  public Optional<Duration> maxBackoff() {
    return maxBackoff;
  }

  /** The number of shards. */
  public int shards() {
    return shards;
  }

  /** The role, if set. */
  public Optional<String> role() {
    return role;
  }

  /** The stop message, if set. */
  public Optional<M> stopMessage() {
    return stopMessage;
  }

  /** The meter registry, if set. */
  public Optional<MeterRegistry> meterRegistry() {
    return meterRegistry;
  }

  @Override
  public String toString() {
    return "FleetSpec(" + name + ", " + protocol.getName() + ", shards " + shards + ")";
  }
}
