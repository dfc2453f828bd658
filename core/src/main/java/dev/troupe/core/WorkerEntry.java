package dev.troupe.core;

import java.time.Instant;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One member of a {@link WorkerGroup}, as the {@link WorkerRegistry} of some node sees it.
 *
 * @param group the group name
 * @param node the cluster address of the node the worker runs on
 * @param ref the worker
 * @param registeredAt when the registering node recorded the registration, by its clock: the same
 *     value on every node
 * @param state whether the worker takes new work
 * @param <T> the group's protocol
 * @since 0.1.0
 */
public record WorkerEntry<T>(
    String group, Address node, ActorRef<T> ref, Instant registeredAt, WorkerState state) {

  /** Whether {@link WorkerRegistry#pick} may return this worker. */
  public boolean isActive() {
    return state == WorkerState.ACTIVE;
  }
}
