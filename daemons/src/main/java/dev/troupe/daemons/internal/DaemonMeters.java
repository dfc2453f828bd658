package dev.troupe.daemons.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.Signal;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * INTERNAL API. The daemon meters of one node, on the node's registry ({@code
 * TroupeNode.meterRegistry()}, tagged {@code node}); see the README's "Meters".
 *
 * <p>Tags: daemon names may be one per key (a scanner's rows, {@code spawnRegister}), so the event
 * meters are tagged by {@code launcher}, a name the application registers in code; only the epoch
 * gauge names the daemon, one per instance running on this node, removed when it ends. The meters
 * of a launcher are made once and cached. Thread-safe: the node's leader and host share it.
 */
public final class DaemonMeters {
  /** Daemon instances started on this node, tag {@code launcher}. */
  public static final String PLACEMENTS = "troupe.daemon.placements";

  /**
   * From the leader's noticing that an instance is lost to its successor running, tags {@code
   * launcher}, {@code cause}.
   */
  public static final String FAILOVERS = "troupe.daemon.failovers";

  /** Duplicate instances the leader stopped, tag {@code launcher}. */
  public static final String DUPLICATES = "troupe.daemon.duplicates.stopped";

  /** The epoch of a daemon instance running on this node, tags {@code daemon}, {@code launcher}. */
  public static final String EPOCH = "troupe.daemon.epoch";

  /** From a daemon's failure to its restarted behavior running, on its node, tag launcher. */
  public static final String RESTARTS = "troupe.daemon.restarts";

  /** Failover cause: the instance's node left the reachable hosts (unreachable, down, left). */
  static final String NODE_LOST = "node-lost";

  /** Failover cause: the instance ended without being asked to (stopped itself, fenced). */
  static final String STOPPED = "stopped";

  /** Failover cause: its node's report no longer listed the instance. */
  static final String MISSING = "missing";

  private final MeterRegistry registry;
  private final Map<String, Counter> placements = new ConcurrentHashMap<>();
  private final Map<String, Timer> failovers = new ConcurrentHashMap<>();
  private final Map<String, Counter> duplicates = new ConcurrentHashMap<>();
  private final Map<String, Timer> restarts = new ConcurrentHashMap<>();
  private final Map<String, Epoch> epochs = new ConcurrentHashMap<>();

  /** The gauge of one daemon's instance here: reads a field. */
  private static final class Epoch {
    final String launcher;
    volatile long epoch;
    Gauge gauge;

    Epoch(String launcher) {
      this.launcher = launcher;
    }
  }

  /** The meters on {@code registry}. */
  public DaemonMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Meters that go nowhere (for tests without a node). */
  public static DaemonMeters none() {
    return new DaemonMeters(new CompositeMeterRegistry());
  }

  /** Daemon {@code name} of {@code launcher} started here at {@code epoch}. */
  void placed(String name, String launcher, long epoch) {
    placements
        .computeIfAbsent(
            launcher,
            l ->
                Counter.builder(PLACEMENTS)
                    .description("daemon instances started on this node")
                    .tag("launcher", l)
                    .register(registry))
        .increment();
    Epoch current = epochs.get(name);
    if (current != null && !current.launcher.equals(launcher)) {
      ended(name);
      current = null;
    }
    if (current == null) {
      Epoch fresh = new Epoch(launcher);
      fresh.gauge =
          Gauge.builder(EPOCH, fresh, e -> e.epoch)
              .description("the fencing epoch of the daemon's instance on this node")
              .tag("daemon", name)
              .tag("launcher", launcher)
              .strongReference(true)
              .register(registry);
      epochs.put(name, fresh);
      current = fresh;
    }
    current.epoch = epoch;
  }

  /** Daemon {@code name}'s instance here ended: its epoch gauge goes. */
  void ended(String name) {
    Epoch gone = epochs.remove(name);
    if (gone != null) {
      registry.remove(gone.gauge);
    }
  }

  /** A daemon of {@code launcher} runs again {@code nanos} after its loss was noticed. */
  void failedOver(String launcher, String cause, long nanos) {
    failovers
        .computeIfAbsent(
            launcher + '\n' + cause,
            k ->
                Timer.builder(FAILOVERS)
                    .description("from the loss of a daemon's instance to its successor running")
                    .tag("launcher", launcher)
                    .tag("cause", cause)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(10))
                    .maximumExpectedValue(Duration.ofMinutes(2))
                    .register(registry))
        .record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
  }

  /** The leader stopped a duplicate instance of a daemon of {@code launcher}. */
  void duplicateStopped(String launcher) {
    duplicates
        .computeIfAbsent(
            launcher,
            l ->
                Counter.builder(DUPLICATES)
                    .description("duplicate daemon instances the leader stopped")
                    .tag("launcher", l)
                    .register(registry))
        .increment();
  }

  private Timer restarts(String launcher) {
    return restarts.computeIfAbsent(
        launcher,
        l ->
            Timer.builder(RESTARTS)
                .description("from a daemon's failure to its restarted behavior running")
                .tag("launcher", l)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(10))
                .maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry));
  }

  /**
   * {@code behavior}, timing each restart of it (from the failure's {@code PreRestart} to the
   * restarted behavior's start) on {@code troupe.daemon.restarts}; wrap it in the supervisor.
   */
  @SuppressWarnings("unchecked")
  <M> Behavior<M> timingRestarts(Behavior<M> behavior, String launcher) {
    Timer timer = restarts(launcher);
    long[] failedAt = new long[1]; // only the daemon's actor touches it
    Behavior<Object> target = (Behavior<Object>) behavior;
    Behavior<Object> timed =
        Behaviors.intercept(
            () ->
                new BehaviorInterceptor<Object, Object>(Object.class) {
                  @Override
                  public Behavior<Object> aroundStart(
                      TypedActorContext<Object> ctx, PreStartTarget<Object> start) {
                    Behavior<Object> started = start.start(ctx);
                    if (failedAt[0] != 0) {
                      timer.record(System.nanoTime() - failedAt[0], TimeUnit.NANOSECONDS);
                      failedAt[0] = 0;
                    }
                    return started;
                  }

                  @Override
                  public Behavior<Object> aroundReceive(
                      TypedActorContext<Object> ctx, Object msg, ReceiveTarget<Object> receive) {
                    return receive.apply(ctx, msg);
                  }

                  @Override
                  public Behavior<Object> aroundSignal(
                      TypedActorContext<Object> ctx, Signal signal, SignalTarget<Object> receive) {
                    if (signal instanceof PreRestart) {
                      failedAt[0] = System.nanoTime();
                    }
                    return receive.apply(ctx, signal);
                  }
                },
            target);
    return (Behavior<M>) timed;
  }
}
