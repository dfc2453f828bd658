package dev.troupe.cron;

import dev.troupe.core.TroupeSerializable;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a job's target receives when the job fires.
 *
 * @param job the job's name
 * @param scheduledAt the instant the tick was scheduled for (not when it arrived)
 * @param fencingToken the scheduler's fencing token: a tick from a later scheduler has a larger one
 * @param idempotencyKey unique per job and scheduled instant (and node, for NODE jobs): make the
 *     side effect idempotent with it
 * @param replyTo where to send {@link CronDone} when the job awaits completion; empty otherwise
 * @since 0.1.0
 */
public record CronTick(
    String job,
    Instant scheduledAt,
    long fencingToken,
    String idempotencyKey,
    Optional<ActorRef<CronDone>> replyTo)
    implements TroupeSerializable {}
