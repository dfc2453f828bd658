package dev.troupe.sharding.internal;

import dev.troupe.sharding.FleetMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * INTERNAL API. What a fleet records into its {@link FleetMetrics}: the same meters (Micrometer
 * returns the registered meter of a name and tags), so that the public class only reads.
 */
public final class FleetMeters {
  private final FleetMetrics metrics;
  private final Timer dispatch;
  private final Counter spawns;
  private final Counter restarts;
  private final Timer restartToReady;
  private final Counter passivations;
  private final Counter redeliveries;
  private final Map<String, Counter> fixes = new ConcurrentHashMap<>();

  public FleetMeters(FleetMetrics metrics) {
    this.metrics = metrics;
    this.dispatch = metrics.dispatch();
    this.spawns = counter(FleetMetrics.SPAWNS);
    this.restarts = counter(FleetMetrics.RESTARTS);
    this.restartToReady = metrics.restartToReady();
    this.passivations = counter(FleetMetrics.PASSIVATIONS);
    this.redeliveries = counter(FleetMetrics.REDELIVERED);
  }

  private Counter counter(String name) {
    return Counter.builder(name).tag("fleet", metrics.fleet()).register(metrics.registry());
  }

  /** The fleet's public meters. */
  public FleetMetrics metrics() {
    return metrics;
  }

  public void recordDispatch(long nanos) {
    dispatch.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void spawned() {
    spawns.increment();
  }

  public void restarted() {
    restarts.increment();
  }

  /** A restarted worker's behavior started {@code nanos} after its failure. */
  public void readyAfterRestart(long nanos) {
    restartToReady.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void passivated() {
    passivations.increment();
  }

  public void redelivered() {
    redeliveries.increment();
  }

  /**
   * {@code count} repairs of kind {@code fix} by a reconciler: {@code worker-started}, {@code
   * worker-retired}, {@code cache-warmed} or {@code cache-dropped}. Registered on first use, so a
   * fleet without a reconciler has none.
   */
  public void fixed(String fix, int count) {
    if (count <= 0) {
      return;
    }
    fixes
        .computeIfAbsent(
            fix,
            f ->
                Counter.builder(FleetMetrics.RECONCILER_FIXES)
                    .description("repairs made by the fleet's reconciler")
                    .tag("fleet", metrics.fleet())
                    .tag("fix", f)
                    .register(metrics.registry()))
        .increment(count);
  }

  /** A reconciler round on this node took {@code nanos}. */
  public void reconcilerRound(long nanos) {
    Timer.builder(FleetMetrics.RECONCILER_ROUND)
        .description("reconciler rounds on this node")
        .tag("fleet", metrics.fleet())
        .register(metrics.registry())
        .record(nanos, TimeUnit.NANOSECONDS);
  }
}
