package dev.troupe.cron;

/**
 * What happens to ticks that were due while no scheduler ran (a leader change, a full cluster stop)
 * or could not be claimed in time. A tick is late when it could not leave within {@code
 * troupe.cron.misfire-threshold} (1 s) of its instant. Every instant that does not fire is recorded
 * in the job's history with the reason, whatever the policy.
 *
 * @since 0.1.0
 */
public enum MisfirePolicy {
  /** Do not fire late ticks. */
  SKIP,
  /**
   * Fire only the latest late tick, once, if it is within the job's catch-up window and no later
   * instant is already due; the earlier late ticks are recorded as missed.
   */
  FIRE_ONCE,
  /**
   * Fire every late tick that is within the job's catch-up window, once each, in order, as soon as
   * a scheduler runs again; only ticks older than the window are recorded as missed. Across a
   * scheduler failover each instant fires exactly once: instants claimed by the failed scheduler
   * whose delivery it could not confirm are delivered again by its successor, and the delivering
   * node marks each instant delivered in the database before it sends the tick, so no instant is
   * delivered twice (the one window left is a node that dies after that mark committed and before
   * it handed the tick to its target). Costs one database transaction per instant and node.
   *
   * @since 0.3.0
   */
  CATCH_UP
}
