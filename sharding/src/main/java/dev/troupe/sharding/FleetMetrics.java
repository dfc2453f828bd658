package dev.troupe.sharding;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The Micrometer meters of one {@link WorkerFleet} on one node, tagged {@code fleet=<name>}. By
 * default they are recorded in a registry of the fleet's own (so the accessors here count) that
 * also passes them to the node's registry ({@code TroupeNode.meterRegistry()}) and to Micrometer's
 * global registry; {@link FleetSpec#withMeterRegistry} chooses another.
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>name</th><th>type</th><th>what</th></tr>
 *   <tr><td>{@code troupe.fleet.dispatch}</td><td>timer (histogram)</td><td>{@code ask} round
 *       trips started on this node</td></tr>
 *   <tr><td>{@code troupe.fleet.active}</td><td>gauge</td><td>workers running on this node</td></tr>
 *   <tr><td>{@code troupe.fleet.spawns}</td><td>counter</td><td>workers started here</td></tr>
 *   <tr><td>{@code troupe.fleet.restarts}</td><td>counter</td><td>worker failures (each one
 *       restarts the worker)</td></tr>
 *   <tr><td>{@code troupe.fleet.restart}</td><td>timer (histogram)</td><td>restart to ready: from
 *       a worker's failure to its restarted behavior having started (its setup ran; state the
 *       worker loads asynchronously after its setup is not included)</td></tr>
 *   <tr><td>{@code troupe.fleet.passivations}</td><td>counter</td><td>idle workers
 *       passivated</td></tr>
 *   <tr><td>{@code troupe.fleet.reconciler.fixes}</td><td>counter</td><td>repairs by a {@link
 *       Reconciler} on this node, tag {@code fix}: {@code worker-started}, {@code worker-retired},
 *       {@code cache-warmed}, {@code cache-dropped}</td></tr>
 *   <tr><td>{@code troupe.fleet.reconciler.round}</td><td>timer</td><td>the duration of each
 *       {@link Reconciler} round on this node</td></tr>
 *   <tr><td>{@code troupe.fleet.redelivered}</td><td>counter</td><td>messages sent again after
 *       a shard hand-off dropped them</td></tr>
 *   <tr><td>{@code cache.gets}, {@code cache.puts}, {@code cache.evictions}, {@code
 *       cache.size}</td><td>Caffeine's binder</td><td>{@link ReadCache#bindTo}: tags {@code
 *       cache=troupe.fleet.cache}, {@code repository=<name>}</td></tr>
 * </table>
 *
 * @since 0.1.0
 */
public final class FleetMetrics {
  /** Meter names (each tagged {@code fleet=<name>}). */
  public static final String DISPATCH = "troupe.fleet.dispatch";

  public static final String ACTIVE = "troupe.fleet.active";
  public static final String SPAWNS = "troupe.fleet.spawns";
  public static final String RESTARTS = "troupe.fleet.restarts";
  public static final String RESTART_TO_READY = "troupe.fleet.restart";
  public static final String PASSIVATIONS = "troupe.fleet.passivations";
  public static final String REDELIVERED = "troupe.fleet.redelivered";
  public static final String RECONCILER_FIXES = "troupe.fleet.reconciler.fixes";
  public static final String RECONCILER_ROUND = "troupe.fleet.reconciler.round";

  private final String fleet;
  private final MeterRegistry registry;
  private final Timer dispatch;
  private final Counter spawns;
  private final Counter restarts;
  private final Timer restartToReady;
  private final Counter passivations;
  private final Counter redeliveries;

  /**
   * Registers the meters of the fleet {@code fleet} in {@code registry} (each fleet makes its own;
   * a test double of {@link WorkerFleet} can make one too), the active gauge reading {@code
   * active}.
   */
  public FleetMetrics(String fleet, MeterRegistry registry, Supplier<Number> active) {
    this.fleet = fleet;
    this.registry = registry;
    this.dispatch =
        Timer.builder(DISPATCH)
            .description("ask round trips to fleet workers started on this node")
            .tag("fleet", fleet)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(10_000))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry);
    this.spawns = counter(SPAWNS, "workers started on this node");
    this.restarts = counter(RESTARTS, "worker failures, each restarting it");
    this.restartToReady =
        Timer.builder(RESTART_TO_READY)
            .description("from a worker's failure to its restarted behavior having started")
            .tag("fleet", fleet)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(10_000))
            .maximumExpectedValue(Duration.ofMinutes(5))
            .register(registry);
    this.passivations = counter(PASSIVATIONS, "idle workers passivated");
    this.redeliveries = counter(REDELIVERED, "messages sent again after a hand-off dropped them");
    Gauge.builder(ACTIVE, active)
        .description("workers running on this node")
        .tag("fleet", fleet)
        .register(registry);
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).tag("fleet", fleet).register(registry);
  }

  /** The fleet's name: the {@code fleet} tag of its meters. */
  public String fleet() {
    return fleet;
  }

  /** The registry the meters are in. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The dispatch timer ({@code troupe.fleet.dispatch}). */
  public Timer dispatch() {
    return dispatch;
  }

  /** Workers started on this node. */
  public double spawns() {
    return spawns.count();
  }

  /** Worker failures on this node. */
  public double restarts() {
    return restarts.count();
  }

  /**
   * Restart to ready ({@code troupe.fleet.restart}): from a worker's failure to its restarted
   * behavior having started, on this node.
   */
  public Timer restartToReady() {
    return restartToReady;
  }

  /** Workers passivated on this node. */
  public double passivations() {
    return passivations.count();
  }

  /** Messages sent again after Pekko dropped them during a shard hand-off, on this node. */
  public double redeliveries() {
    return redeliveries.count();
  }
}
