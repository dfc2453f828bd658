package dev.troupe.cron;

import static dev.troupe.core.Preconditions.requireNonNegative;
import static dev.troupe.core.Preconditions.requireNonNull;
import static dev.troupe.core.Preconditions.requirePositive;

import dev.troupe.core.Names;
import dev.troupe.core.WorkerGroup;
import dev.troupe.cron.internal.CronSpec;
import dev.troupe.cron.internal.JobDefinition;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Optional;

/**
 * A cron job: when it fires (a cron expression in a time zone), where (once in the cluster or on
 * every node), whom it tells ({@link CronTick}s to an address-book name or a worker group), and
 * what happens to late and overlapping ticks. Immutable; made with {@link #builder(String)}.
 *
 * <pre>{@code
 * CronJob nightly = CronJob.builder("close-idle-rooms")
 *     .spec("0 3 * * *")                           // 03:00 every day
 *     .zone(ZoneId.of("Europe/Berlin"))
 *     .target("room-sweeper")                      // an address-book name accepting CronTick
 *     .misfire(MisfirePolicy.FIRE_ONCE).catchUpWindow(Duration.ofHours(1))
 *     .awaitCompletion(Duration.ofMinutes(10))     // with OverlapPolicy.SKIP (the default)
 *     .build();
 * }</pre>
 *
 * <p><b>Specs</b> (parsed with cron-utils): 5-field Unix cron ({@code minute hour day-of-month
 * month day-of-week}), 6 fields with seconds first, and the macros {@code @yearly} ({@code
 * @annually}), {@code @monthly}, {@code @weekly}, {@code @daily} ({@code @midnight}), {@code
 * @hourly}. A spec that never fires (such as {@code 0 0 30 2 *}) is refused.
 *
 * <p><b>Daylight saving time</b>, for jobs whose hour field is fixed (not {@code *} or a step): a
 * local time skipped by the spring-forward change fires once, at the end of the gap; a local time
 * repeated by the fall-back change fires once, at its first occurrence. Jobs whose hour field is
 * {@code *} or a step ({@code *}{@code /15 * * * *}) follow real elapsed time: they do not fire for
 * skipped local times and fire in both occurrences of repeated ones.
 *
 * <p>Defaults: zone UTC, scope {@link CronScope#CLUSTER}, misfire {@link MisfirePolicy#FIRE_ONCE}
 * with a one-minute catch-up window, overlap {@link OverlapPolicy#SKIP}, no completion wait, no
 * jitter.
 *
 * @since 0.1.0
 */
public final class CronJob {
  private final JobDefinition definition;

  private CronJob(JobDefinition definition) {
    this.definition = definition;
  }

  /**
   * A builder of the job {@code name}, a {@linkplain Names name}: {@value Names#RULE}. The name is
   * a row key of {@code troupe_cron_job} and a field of log lines and of {@link JobStatus}.
   *
   * @throws IllegalArgumentException if {@code name} is not a valid name (null, empty, longer than
   *     {@value Names#MAX_UTF8_BYTES} bytes in UTF-8, or with a character outside the rule); the
   *     message names the value and the rule
   */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The job's definition, for the scheduler (package-private: not API). */
  JobDefinition definition() {
    return definition;
  }

  /** The job's name. */
  public String name() {
    return definition.name();
  }

  /** The cron expression. */
  public String spec() {
    return definition.spec();
  }

  /** The time zone. */
  public ZoneId zone() {
    return ZoneId.of(definition.zone());
  }

  /** The scope. */
  public CronScope scope() {
    return definition.scope();
  }

  /** The target address-book name, if the job targets one. */
  public Optional<String> target() {
    return Optional.ofNullable(definition.target());
  }

  /** The target worker group's name, if the job targets a group. */
  public Optional<String> targetGroup() {
    return Optional.ofNullable(definition.targetGroup());
  }

  /** What happens to ticks missed while no scheduler ran. */
  public MisfirePolicy misfire() {
    return definition.misfire();
  }

  /**
   * How late a missed tick may still fire under {@link MisfirePolicy#FIRE_ONCE} or {@link
   * MisfirePolicy#CATCH_UP}.
   */
  public Duration catchUpWindow() {
    return Duration.ofMillis(definition.catchUpMillis());
  }

  /** What a tick does while the previous run goes on. */
  public OverlapPolicy overlap() {
    return definition.overlap();
  }

  /** How long a run may last until the target answers; {@link Duration#ZERO}: not awaited. */
  public Duration awaitCompletion() {
    return Duration.ofMillis(definition.awaitMillis());
  }

  /** The largest random delay of a delivery; {@link Duration#ZERO}: none. */
  public Duration jitter() {
    return Duration.ofMillis(definition.jitterMillis());
  }

  @Override
  public String toString() {
    return "CronJob(" + definition + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CronJob other && other.definition.equals(definition);
  }

  @Override
  public int hashCode() {
    return definition.hashCode();
  }

  /** Builder of a {@link CronJob}; not thread-safe. */
  public static final class Builder {
    private final String name;
    private String spec;
    private ZoneId zone = ZoneId.of("UTC");
    private CronScope scope = CronScope.CLUSTER;
    private String target;
    private String targetGroup;
    private MisfirePolicy misfire = MisfirePolicy.FIRE_ONCE;
    private Duration catchUpWindow = Duration.ofMinutes(1);
    private OverlapPolicy overlap = OverlapPolicy.SKIP;
    private Duration awaitCompletion = Duration.ZERO;
    private Duration jitter = Duration.ZERO;

    private Builder(String name) {
      this.name = JobDefinition.requireName(name);
    }

    /** The cron expression (see {@link CronJob}); required. */
    public Builder spec(String cronExpression) {
      this.spec = cronExpression;
      return this;
    }

    /** The time zone the expression is read in; default UTC. */
    public Builder zone(ZoneId zoneId) {
      this.zone = requireNonNull(zoneId, "zone");
      return this;
    }

    /** Where the job fires; default {@link CronScope#CLUSTER}. */
    public Builder scope(CronScope cronScope) {
      this.scope = requireNonNull(cronScope, "scope");
      return this;
    }

    /**
     * The address-book name whose actor accepts {@link CronTick}; for CLUSTER jobs.
     *
     * @throws IllegalArgumentException if {@code addressBookName} is not a valid {@linkplain Names
     *     name}; the message names the value and the rule
     */
    public Builder target(String addressBookName) {
      this.target = Names.require(addressBookName, "cron job target (an address-book name)");
      return this;
    }

    /**
     * A worker group of {@link CronTick} receivers: one member is picked for a CLUSTER job (a
     * member on the delivering node if there is one), every member of the node for a NODE job.
     */
    public Builder targetGroup(WorkerGroup<CronTick> group) {
      this.targetGroup = requireNonNull(group, "targetGroup").name();
      return this;
    }

    /**
     * What happens to ticks missed while no scheduler ran; default {@link MisfirePolicy#FIRE_ONCE}.
     */
    public Builder misfire(MisfirePolicy policy) {
      this.misfire = requireNonNull(policy, "misfire");
      return this;
    }

    /**
     * How late a missed tick may still fire under {@link MisfirePolicy#FIRE_ONCE} or {@link
     * MisfirePolicy#CATCH_UP}; default 1 min.
     */
    public Builder catchUpWindow(Duration window) {
      this.catchUpWindow = requirePositive(window, "catchUpWindow");
      return this;
    }

    /** What a tick does while the previous run goes on; default {@link OverlapPolicy#SKIP}. */
    public Builder overlap(OverlapPolicy policy) {
      this.overlap = requireNonNull(policy, "overlap");
      return this;
    }

    /**
     * Ticks carry a {@code replyTo}, and a run lasts until the target answers {@link CronDone} or
     * {@code timeout} passes (then it is recorded as failed); the overlap policy applies meanwhile.
     */
    public Builder awaitCompletion(Duration timeout) {
      this.awaitCompletion = requirePositive(timeout, "awaitCompletion");
      return this;
    }

    /** Delays each delivery by a random time in {@code [0, jitter]}; default none. */
    public Builder jitter(Duration maxJitter) {
      this.jitter = requireNonNegative(maxJitter, "jitter");
      return this;
    }

    /**
     * Validates and builds the job.
     *
     * @throws IllegalArgumentException naming the field: no or a malformed spec (naming the cron
     *     field at fault), a spec that never fires, no target or both targets, a NODE job without a
     *     target group
     */
    public CronJob build() {
      if (spec == null) {
        throw new IllegalArgumentException("CronJob [" + name + "]: spec is required");
      }
      CronSpec.parse(spec, zone); // the field-level error
      return new CronJob(
          new JobDefinition(
                  name,
                  spec.trim(),
                  zone.getId(),
                  scope,
                  target,
                  targetGroup,
                  misfire,
                  catchUpWindow.toMillis(),
                  overlap,
                  awaitCompletion.toMillis(),
                  jitter.toMillis())
              .validated());
    }
  }
}
