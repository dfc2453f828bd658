package dev.troupe.cron;

/**
 * What a tick does while the job's previous run is still going, for jobs that await completion
 * ({@link CronJob.Builder#awaitCompletion}); jobs that do not await completion never overlap.
 *
 * @since 0.1.0
 */
public enum OverlapPolicy {
  /** Deliver anyway: runs may overlap. */
  ALLOW,
  /** Skip the tick and record it as skipped (the default). */
  SKIP,
  /** Keep the latest such tick and deliver it when the running one completes. */
  BUFFER_ONE
}
