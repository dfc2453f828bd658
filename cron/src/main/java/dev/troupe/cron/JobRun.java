package dev.troupe.cron;

import java.time.Instant;

/**
 * One scheduled instant of a job, as its history records it.
 *
 * @param scheduledAt the scheduled instant
 * @param outcome {@code delivered}, {@code completed}, {@code failed}, {@code skipped} or {@code
 *     missed}
 * @param detail the node that delivered it, or why it was skipped, missed or failed
 * @since 0.1.0
 */
public record JobRun(Instant scheduledAt, String outcome, String detail) {}
