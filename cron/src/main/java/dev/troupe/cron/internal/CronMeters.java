package dev.troupe.cron.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * INTERNAL API. The cron meters of one node, on the node's registry ({@code
 * TroupeNode.meterRegistry()}, tagged {@code node}); see the README's "Meters". Job names are the
 * application's and bounded, so the meters are tagged {@code job}; each job's meters are made once
 * and cached. Thread-safe: the node's agent and scheduler share it.
 */
public final class CronMeters {
  /** Ticks an agent handled, tags {@code job}, {@code outcome}. */
  public static final String FIRES = "troupe.cron.fires";

  /** Delivery time minus the scheduled instant, tag {@code job}. */
  public static final String LATENESS = "troupe.cron.lateness";

  /** Instants this node's scheduler claimed, tag {@code job}. */
  public static final String CLAIMS = "troupe.cron.claims";

  /** Instants not run, tags {@code job}, {@code reason}. */
  public static final String MISSES = "troupe.cron.misses";

  /** Times this node's scheduler took over. */
  public static final String TAKEOVERS = "troupe.cron.scheduler.takeovers";

  /** 1 while this node runs the cluster's scheduler, else 0. */
  public static final String ACTIVE = "troupe.cron.scheduler.active";

  /** Miss reasons that are not the {@link FirePolicy}'s. */
  static final String NO_AGENT = "no-agent";

  static final String CLAIM_FAILED = "claim-failed";
  static final String UNDELIVERED = "undelivered-by-previous-scheduler";
  static final String STALLED = "stalled";

  /** The outcome of a tick the scheduler heard nothing of in time. */
  static final String UNREPORTED = "unreported";

  private final MeterRegistry registry;
  private final Map<String, Counter> fires = new ConcurrentHashMap<>();
  private final Map<String, Timer> lateness = new ConcurrentHashMap<>();
  private final Map<String, Counter> claims = new ConcurrentHashMap<>();
  private final Map<String, Counter> misses = new ConcurrentHashMap<>();
  private final Counter takeovers;
  private volatile int active;

  /** The meters on {@code registry}. */
  public CronMeters(MeterRegistry registry) {
    this.registry = registry;
    this.takeovers =
        Counter.builder(TAKEOVERS)
            .description("times this node's cron scheduler took over")
            .register(registry);
    Gauge.builder(ACTIVE, this, m -> m.active)
        .description("1 while this node runs the cluster's cron scheduler")
        .strongReference(true)
        .register(registry);
  }

  /** Meters that go nowhere (for tests and tools without a node). */
  public static CronMeters none() {
    return new CronMeters(new CompositeMeterRegistry());
  }

  /** An agent handled a tick of {@code job} with {@code outcome}. */
  void fired(String job, String outcome) {
    fires
        .computeIfAbsent(
            job + '\n' + outcome,
            k ->
                Counter.builder(FIRES)
                    .description("cron ticks handled by this node's agent, by outcome")
                    .tag("job", job)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
  }

  /** A tick of {@code job} left {@code lateMillis} after its instant. */
  void late(String job, long lateMillis) {
    lateness
        .computeIfAbsent(
            job,
            k ->
                Timer.builder(LATENESS)
                    .description("when a cron tick left this node's agent minus its instant")
                    .tag("job", job)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofMinutes(1))
                    .register(registry))
        .record(Math.max(0, lateMillis), TimeUnit.MILLISECONDS);
  }

  /** This node's scheduler claimed an instant of {@code job}. */
  void claimed(String job) {
    claims
        .computeIfAbsent(
            job,
            k ->
                Counter.builder(CLAIMS)
                    .description("instants this node's cron scheduler claimed")
                    .tag("job", job)
                    .register(registry))
        .increment();
  }

  /** An instant of {@code job} was not run, for {@code reason}. */
  void missed(String job, String reason) {
    misses
        .computeIfAbsent(
            job + '\n' + reason,
            k ->
                Counter.builder(MISSES)
                    .description("cron instants not run, by reason")
                    .tag("job", job)
                    .tag("reason", reason)
                    .register(registry))
        .increment();
  }

  /** This node's scheduler took over. */
  void tookOver() {
    takeovers.increment();
    active = 1;
  }

  /** This node's scheduler stopped (or is restarting). */
  void stoppedScheduling() {
    active = 0;
  }
}
