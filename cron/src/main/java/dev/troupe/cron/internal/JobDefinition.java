package dev.troupe.cron.internal;

import static dev.troupe.core.Preconditions.requireNonBlank;

import dev.troupe.core.Names;
import dev.troupe.core.TroupeSerializable;
import dev.troupe.cron.CronScope;
import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import java.time.DateTimeException;
import java.time.ZoneId;

/**
 * INTERNAL API. A cron job as it is stored and sent to the scheduler: plain values only.
 *
 * @param name the job's name
 * @param spec the cron expression as given
 * @param zone the zone id
 * @param scope CLUSTER or NODE
 * @param target the address-book name, or null
 * @param targetGroup the worker group's name, or null
 * @param misfire the misfire policy
 * @param catchUpMillis the catch-up window
 * @param overlap the overlap policy
 * @param awaitMillis the completion timeout; 0 = the job does not await completion
 * @param jitterMillis the maximum delivery jitter
 */
public record JobDefinition(
    String name,
    String spec,
    String zone,
    CronScope scope,
    String target,
    String targetGroup,
    MisfirePolicy misfire,
    long catchUpMillis,
    OverlapPolicy overlap,
    long awaitMillis,
    long jitterMillis)
    implements TroupeSerializable {

  /** The definition of {@code job}, from its public accessors. */
  public static JobDefinition of(dev.troupe.cron.CronJob job) {
    return new JobDefinition(
        job.name(),
        job.spec(),
        job.zone().getId(),
        job.scope(),
        job.target().orElse(null),
        job.targetGroup().orElse(null),
        job.misfire(),
        job.catchUpWindow().toMillis(),
        job.overlap(),
        job.awaitCompletion().toMillis(),
        job.jitter().toMillis());
  }

  /**
   * Returns {@code name} if it is a valid job name: a {@linkplain Names name}, {@value Names#RULE}.
   *
   * @throws IllegalArgumentException naming the value and the rule
   */
  public static String requireName(String name) {
    return Names.require(name, "cron job name");
  }

  /**
   * This definition after the checks that span fields; the spec is parsed again. The name is only
   * checked to be there: the builder checked it against {@link Names}, and a job stored by an
   * earlier version, under a name the rule now refuses, still loads, runs and can be unscheduled.
   *
   * @throws IllegalArgumentException naming the field
   */
  public JobDefinition validated() {
    requireNonBlank(name, "cron job name");
    ZoneId zoneId;
    try {
      zoneId = ZoneId.of(zone);
    } catch (DateTimeException | NullPointerException e) {
      throw new IllegalArgumentException("cron job [" + name + "]: unknown zone [" + zone + "]", e);
    }
    CronSpec.parse(spec, zoneId);
    if (scope == null || misfire == null || overlap == null) {
      throw new IllegalArgumentException(
          "cron job [" + name + "]: scope, misfire and overlap must be set");
    }
    if ((target == null) == (targetGroup == null)) {
      throw new IllegalArgumentException(
          "cron job ["
              + name
              + "]: exactly one of target and targetGroup must be set, got target ["
              + target
              + "] and targetGroup ["
              + targetGroup
              + "]");
    }
    if (scope == CronScope.NODE && targetGroup == null) {
      throw new IllegalArgumentException(
          "cron job ["
              + name
              + "]: a NODE job needs a targetGroup (address-book names are cluster-unique), got"
              + " target ["
              + target
              + "]");
    }
    if (catchUpMillis <= 0 || awaitMillis < 0 || jitterMillis < 0) {
      throw new IllegalArgumentException(
          "cron job [" + name + "]: catchUpWindow must be > 0, awaitCompletion and jitter >= 0");
    }
    return this;
  }

  /** The parsed spec. */
  public CronSpec parsedSpec() {
    return CronSpec.parse(spec, ZoneId.of(zone));
  }
}
