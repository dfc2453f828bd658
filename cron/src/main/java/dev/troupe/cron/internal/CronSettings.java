package dev.troupe.cron.internal;

import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requirePositive;
import static dev.troupe.core.Preconditions.requireRange;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.CronJob;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.CronTick;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * INTERNAL API. The settings of the cron module, {@code troupe.cron}; every message names the key.
 *
 * @param leaderLease {@code leader-lease}: the lease section for the scheduler; empty = none
 * @param leaseRetryInterval {@code lease-retry-interval}
 * @param databaseClock {@code clock = database}
 * @param clockSyncInterval {@code clock-sync-interval}
 * @param clockTolerance {@code clock-tolerance}
 * @param claimAhead {@code claim-ahead}
 * @param misfireThreshold {@code misfire-threshold}
 * @param maxMissedRecords {@code max-missed-records}
 * @param jdkTimer {@code timer = jdk}
 * @param deliveryTimeout {@code delivery-timeout}
 * @param historySize {@code history-size}
 * @param historyRetention {@code history-retention}
 * @param restartBackoffMin {@code restart-backoff.min}
 * @param restartBackoffMax {@code restart-backoff.max}
 * @param askTimeout {@code ask-timeout}
 * @param jobs {@code jobs}
 */
public record CronSettings(
    String leaderLease,
    Duration leaseRetryInterval,
    boolean databaseClock,
    Duration clockSyncInterval,
    Duration clockTolerance,
    Duration claimAhead,
    Duration misfireThreshold,
    int maxMissedRecords,
    boolean jdkTimer,
    Duration deliveryTimeout,
    int historySize,
    Duration historyRetention,
    Duration restartBackoffMin,
    Duration restartBackoffMax,
    Duration askTimeout,
    List<JobDefinition> jobs) {

  /** Validates. */
  public CronSettings {
    requirePositive(leaseRetryInterval, "troupe.cron.lease-retry-interval");
    requirePositive(clockSyncInterval, "troupe.cron.clock-sync-interval");
    requireNonNegative(clockTolerance, "troupe.cron.clock-tolerance");
    requireNonNegative(claimAhead, "troupe.cron.claim-ahead");
    requirePositive(misfireThreshold, "troupe.cron.misfire-threshold");
    requireRange(maxMissedRecords, 1, 1_000_000, "troupe.cron.max-missed-records");
    requirePositive(deliveryTimeout, "troupe.cron.delivery-timeout");
    requireRange(historySize, 1, 10_000, "troupe.cron.history-size");
    requirePositive(historyRetention, "troupe.cron.history-retention");
    requirePositive(restartBackoffMin, "troupe.cron.restart-backoff.min");
    requirePositive(restartBackoffMax, "troupe.cron.restart-backoff.max");
    requirePositive(askTimeout, "troupe.cron.ask-timeout");
    jobs = List.copyOf(jobs);
  }

  /**
   * Reads {@code troupe.cron} of the whole configuration {@code config}.
   *
   * @throws IllegalArgumentException naming the key (and the job) at fault
   */
  public static CronSettings fromConfig(Config config) {
    Config c = config.getConfig("troupe.cron");
    return new CronSettings(
        c.getString("leader-lease"),
        c.getDuration("lease-retry-interval"),
        choice(c, "clock", "database", "local"),
        c.getDuration("clock-sync-interval"),
        c.getDuration("clock-tolerance"),
        c.getDuration("claim-ahead"),
        c.getDuration("misfire-threshold"),
        c.getInt("max-missed-records"),
        choice(c, "timer", "jdk", "pekko"),
        c.getDuration("delivery-timeout"),
        c.getInt("history-size"),
        c.getDuration("history-retention"),
        c.getDuration("restart-backoff.min"),
        c.getDuration("restart-backoff.max"),
        c.getDuration("ask-timeout"),
        jobs(c));
  }

  /** True for {@code first}, false for {@code second}, else an error naming the key. */
  private static boolean choice(Config c, String key, String first, String second) {
    String value = c.getString(key);
    if (value.equals(first) || value.equals(second)) {
      return value.equals(first);
    }
    throw new IllegalArgumentException(
        "troupe.cron." + key + " must be " + first + " or " + second + ", got [" + value + "]");
  }

  private static List<JobDefinition> jobs(Config c) {
    List<JobDefinition> jobs = new ArrayList<>();
    List<? extends Config> declared = c.getConfigList("jobs");
    for (int i = 0; i < declared.size(); i++) {
      Config job = declared.get(i);
      String where = "troupe.cron.jobs[" + i + "]";
      try {
        jobs.add(JobDefinition.of(job(job)));
      } catch (ConfigException | IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return jobs;
  }

  private static CronJob job(Config job) {
    CronJob.Builder b = CronJob.builder(job.getString("name")).spec(job.getString("spec"));
    if (job.hasPath("zone")) {
      try {
        b.zone(ZoneId.of(job.getString("zone")));
      } catch (DateTimeException e) {
        throw new IllegalArgumentException("zone: unknown zone [" + job.getString("zone") + "]", e);
      }
    }
    if (job.hasPath("scope")) {
      b.scope(CronScope.valueOf(constant(job, "scope")));
    }
    if (job.hasPath("target")) {
      b.target(job.getString("target"));
    }
    if (job.hasPath("target-group")) {
      b.targetGroup(WorkerGroup.of(job.getString("target-group"), CronTick.class));
    }
    if (job.hasPath("misfire")) {
      b.misfire(MisfirePolicy.valueOf(constant(job, "misfire")));
    }
    if (job.hasPath("catch-up-window")) {
      b.catchUpWindow(job.getDuration("catch-up-window"));
    }
    if (job.hasPath("overlap")) {
      b.overlap(OverlapPolicy.valueOf(constant(job, "overlap")));
    }
    if (job.hasPath("await-completion") && !job.getDuration("await-completion").isZero()) {
      b.awaitCompletion(job.getDuration("await-completion"));
    }
    if (job.hasPath("jitter")) {
      b.jitter(job.getDuration("jitter"));
    }
    return b.build();
  }

  private static String constant(Config job, String key) {
    String value = job.getString(key);
    String constant = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    return switch (key) {
      case "scope" -> check(key, value, constant, "cluster, node", CronScope.values());
      case "misfire" ->
          check(key, value, constant, "skip, fire-once, catch-up", MisfirePolicy.values());
      default -> check(key, value, constant, "allow, skip, buffer-one", OverlapPolicy.values());
    };
  }

  private static String check(
      String key, String value, String constant, String allowed, Enum<?>[] values) {
    for (Enum<?> v : values) {
      if (v.name().equals(constant)) {
        return constant;
      }
    }
    throw new IllegalArgumentException(
        key + " must be one of " + allowed + ", got [" + value + "]");
  }
}
