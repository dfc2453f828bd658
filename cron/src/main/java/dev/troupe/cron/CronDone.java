package dev.troupe.cron;

import dev.troupe.core.TroupeSerializable;

/**
 * The answer of a job's target to a {@link CronTick} that has a {@code replyTo}: the run is over.
 *
 * @param idempotencyKey the tick's key
 * @param success whether the run succeeded
 * @since 0.1.0
 */
public record CronDone(String idempotencyKey, boolean success) implements TroupeSerializable {}
