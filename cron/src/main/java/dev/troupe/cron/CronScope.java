package dev.troupe.cron;

/**
 * Where a cron job fires.
 *
 * @since 0.1.0
 */
public enum CronScope {
  /** Once per scheduled instant in the whole cluster, delivered from the ring owner of the job. */
  CLUSTER,
  /** Once per scheduled instant on every node, to that node's members of the target group. */
  NODE
}
