package dev.troupe.cron;

import java.time.Instant;

/**
 * What the cluster's cron scheduler did, published on the actor system's event stream of the node
 * it runs on (subscribe with {@code system.eventStream().tell(new EventStream.Subscribe<>(
 * SchedulerEvent.class, ref))}): for dashboards, logs and fault harnesses that judge that two
 * schedulers never act at once.
 *
 * <p>A scheduler {@link Kind#TOOK_OVER} with a new fencing token once its node held the scheduler
 * lease; it publishes {@link Kind#CLAIMING} each time it is about to claim due instants, only after
 * it checked that its node still trusts the lease (a scheduler that does not is about to be stopped
 * and claims nothing); {@link Kind#STOPPED} when it stops.
 *
 * @param kind what happened
 * @param token the scheduler's fencing token
 * @param at when, by the scheduler node's clock
 * @param instants for {@code CLAIMING}, how many instants it claims; otherwise 0
 * @since 0.1.0
 */
public record SchedulerEvent(Kind kind, long token, Instant at, int instants) {
  /** What happened. */
  public enum Kind {
    /** The scheduler took over with a new token. */
    TOOK_OVER,
    /** The scheduler is about to claim due instants (it trusts its lease). */
    CLAIMING,
    /** The scheduler stopped. */
    STOPPED
  }
}
