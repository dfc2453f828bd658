package dev.troupe.cron;

/**
 * What happens to ticks that were due while no scheduler ran (a leader change, a full cluster
 * stop). Every missed tick is recorded in the job's history either way.
 *
 * @since 0.1.0
 */
public enum MisfirePolicy {
  /** Do not fire missed ticks. */
  SKIP,
  /** Fire the latest missed tick once, if it is within the job's catch-up window. */
  FIRE_ONCE
}
