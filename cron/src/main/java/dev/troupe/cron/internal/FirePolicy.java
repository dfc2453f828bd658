package dev.troupe.cron.internal;

import dev.troupe.cron.MisfirePolicy;
import dev.troupe.cron.OverlapPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API. The cron scheduler's rules, without the actor: which due instants of a job fire and
 * which are recorded as missed (the misfire policy), and what a tick does while the job's previous
 * run goes on (the overlap policy). Pure: the caller passes the time.
 */
public final class FirePolicy {
  /*
   * An instant t is due when t - claim-ahead <= now. It is on time when now - t <= the misfire
   * threshold: it fires under every policy. A late instant
   *   SKIP:      is missed;
   *   FIRE_ONCE: fires if it is within the catch-up window and no later instant is due yet (it is
   *              the latest late one), else is missed;
   *   CATCH_UP:  fires if it is within the catch-up window, else is missed.
   * After max-missed-records misses in one walk, while later instants are due, the walk jumps: to
   * now - threshold under SKIP, to the start of the catch-up window otherwise (so that no instant
   * the policy would fire is jumped over); one row stands for the instants jumped over.
   */

  private FirePolicy() {}

  /**
   * The scheduler's limits.
   *
   * @param thresholdMillis {@code misfire-threshold}: how late an instant may leave and count as on
   *     time
   * @param claimAheadMillis {@code claim-ahead}: how long before its instant a tick is claimed
   * @param maxMissedRecords {@code max-missed-records}: missed rows one walk lists before it jumps
   */
  public record Limits(long thresholdMillis, long claimAheadMillis, int maxMissedRecords) {}

  /** A step of a walk over a job's due instants. */
  public sealed interface Step {
    /** The instant. */
    Instant at();
  }

  /** Instant {@code at} fires. */
  public record Fire(Instant at) implements Step {}

  /**
   * Instant {@code at} is recorded as missed, with the reason (for the history) and its cause (for
   * the meters): {@link #LATE_SKIP}, {@link #FIRE_ONCE_COLLAPSED} or {@link #BEYOND_CATCH_UP}.
   */
  public record Miss(Instant at, String reason, String cause) implements Step {}

  /** Miss cause: a late instant under misfire policy SKIP. */
  public static final String LATE_SKIP = "misfire-skip";

  /** Miss cause: a late instant that a later one replaces (misfire policy FIRE_ONCE). */
  public static final String FIRE_ONCE_COLLAPSED = "fire-once-collapsed";

  /** Miss cause: an instant later than its job's catch-up window. */
  public static final String BEYOND_CATCH_UP = "catch-up-window-exceeded";

  /** Skip cause: the previous run was still going (overlap SKIP). */
  public static final String OVERLAP_SKIP = "overlap-skip";

  /** Skip cause: a run was going and one was buffered already (overlap BUFFER_ONE). */
  public static final String OVERLAP_BUFFER_FULL = "overlap-buffer-full";

  /**
   * The outcome of a walk.
   *
   * @param steps the due instants, in order, each firing or missed
   * @param next the job's first instant that is not due yet; null if it has none
   */
  public record Walk(List<Step> steps, Instant next) {}

  /**
   * Walks the instants of a job from {@code first} (its earliest instant not yet handled) while
   * they are due at {@code nowMillis}.
   *
   * @param spec the job's schedule
   * @param first the earliest instant not handled yet; null if the job has none
   * @param policy the job's misfire policy
   * @param catchUpMillis the job's catch-up window
   */
  public static Walk walk(
      CronSpec spec,
      Instant first,
      MisfirePolicy policy,
      long catchUpMillis,
      Limits limits,
      long nowMillis) {
    List<Step> steps = new ArrayList<>();
    int missed = 0;
    Instant t = first;
    while (t != null && t.toEpochMilli() - limits.claimAheadMillis() <= nowMillis) {
      Instant next = spec.nextAfter(t).orElse(null);
      long late = nowMillis - t.toEpochMilli();
      boolean superseded =
          next != null && next.toEpochMilli() - limits.claimAheadMillis() <= nowMillis;
      if (late <= limits.thresholdMillis() || fires(policy, late, catchUpMillis, superseded)) {
        steps.add(new Fire(t));
      } else {
        String why = missReason(policy, late, catchUpMillis, superseded);
        if (++missed >= limits.maxMissedRecords() && superseded) {
          long keep =
              policy == MisfirePolicy.SKIP
                  ? limits.thresholdMillis()
                  : Math.max(limits.thresholdMillis(), catchUpMillis);
          Instant resume = Instant.ofEpochMilli(nowMillis - keep - 1);
          if (resume.isAfter(t)) {
            why += "; every later instant up to " + resume + " was missed too (not listed)";
            next = spec.nextAfter(resume).orElse(null);
          }
        }
        steps.add(new Miss(t, why, missCause(policy, late, catchUpMillis, superseded)));
      }
      t = next;
    }
    return new Walk(steps, t);
  }

  /** Whether a late instant fires. */
  static boolean fires(MisfirePolicy policy, long late, long catchUpMillis, boolean superseded) {
    return switch (policy) {
      case SKIP -> false;
      case FIRE_ONCE -> !superseded && late <= catchUpMillis;
      case CATCH_UP -> late <= catchUpMillis;
    };
  }

  private static String missCause(
      MisfirePolicy policy, long late, long catchUpMillis, boolean superseded) {
    if (policy == MisfirePolicy.SKIP) {
      return LATE_SKIP;
    }
    if (policy == MisfirePolicy.FIRE_ONCE && superseded && late <= catchUpMillis) {
      return FIRE_ONCE_COLLAPSED;
    }
    return BEYOND_CATCH_UP;
  }

  private static String missReason(
      MisfirePolicy policy, long late, long catchUpMillis, boolean superseded) {
    String lateBy = "late by " + Duration.ofMillis(late) + " (no scheduler ran, or it was stalled)";
    if (policy == MisfirePolicy.SKIP) {
      return lateBy + "; misfire policy SKIP";
    }
    if (policy == MisfirePolicy.FIRE_ONCE && superseded && late <= catchUpMillis) {
      return lateBy + "; a later instant fires instead (misfire policy FIRE_ONCE)";
    }
    return lateBy + "; beyond the catch-up window " + Duration.ofMillis(catchUpMillis);
  }

  /**
   * How late an instant whose claim failed may still be claimed again: the catch-up window for the
   * policies that fire late instants, else the threshold.
   */
  public static long retryWindowMillis(MisfirePolicy policy, long catchUpMillis, Limits limits) {
    return policy == MisfirePolicy.SKIP ? limits.thresholdMillis() : catchUpMillis;
  }

  /** What a tick does while runs of its job are going on. */
  public sealed interface Overlap {}

  /** The tick runs. */
  public record Run() implements Overlap {}

  /** The tick is kept and runs when the running one ends (replacing any kept before). */
  public record Buffer() implements Overlap {}

  /**
   * The tick is skipped and recorded with the reason; {@code cause} ({@link #OVERLAP_SKIP} or
   * {@link #OVERLAP_BUFFER_FULL}) names it for the meters.
   */
  public record Skip(String reason, String cause) implements Overlap {}

  /**
   * The overlap policy for a tick of a job.
   *
   * @param awaits whether the job awaits completion (only such jobs overlap)
   * @param inFlight the job's runs going on
   * @param buffered whether a tick is kept already
   */
  public static Overlap overlap(
      OverlapPolicy policy, boolean awaits, int inFlight, boolean buffered) {
    if (!awaits || inFlight == 0 || policy == OverlapPolicy.ALLOW) {
      return new Run();
    }
    if (policy == OverlapPolicy.SKIP) {
      return new Skip("the previous run was still going (overlap SKIP)", OVERLAP_SKIP);
    }
    return buffered
        ? new Skip(
            "a run was going and one was already buffered (overlap BUFFER_ONE)",
            OVERLAP_BUFFER_FULL)
        : new Buffer();
  }
}
