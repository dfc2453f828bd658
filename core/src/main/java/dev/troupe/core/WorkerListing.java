package dev.troupe.core;

import java.util.List;

/**
 * The members of a group as an actor subscribed with {@link WorkerRegistry#subscribe(WorkerGroup,
 * org.apache.pekko.actor.typed.ActorRef)} receives them: Troupe's {@code Receptionist.Listing}. The
 * first listing arrives at once, then one after every change of the group's reachable members.
 *
 * @param group the group
 * @param workers the members on reachable nodes, oldest first (as {@link
 *     WorkerRegistry#workers(WorkerGroup)} returns them); never null
 * @param <T> the group's protocol
 * @since 0.2.0
 */
public record WorkerListing<T>(WorkerGroup<T> group, List<WorkerEntry<T>> workers) {
  /** Whether {@code group} is this listing's group: for a behavior subscribed to several. */
  public boolean isFor(WorkerGroup<?> other) {
    return group.equals(other);
  }
}
