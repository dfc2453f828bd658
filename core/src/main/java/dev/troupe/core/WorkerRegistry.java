package dev.troupe.core;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * Cluster-wide groups of workers, Erlang {@code pg} on Pekko: register actors under a {@link
 * WorkerGroup} on any node, and every node sees every member. Obtained from {@link
 * TroupeNode#registry()}.
 *
 * <pre>{@code
 * WorkerGroup<Job> group = WorkerGroup.of("store-a", Job.class);
 * registry.register(group, worker).toCompletableFuture().join();   // on the worker's node
 * Optional<ActorRef<Job>> any = registry.pick(group);                 // on any node, round-robin
 * Optional<ActorRef<Job>> same = registry.pick(group, "order-42");    // stable for the key
 * }</pre>
 *
 * <p><b>Semantics</b> (those of {@code pg}):
 *
 * <ul>
 *   <li>Only actors of the local node can be registered; a worker may be in several groups.
 *   <li>A worker that stops leaves all its groups, on every node. The workers of a node that
 *       becomes unreachable disappear from {@link #workers} and {@link #pick} as soon as this node
 *       sees it unreachable (and come back if it becomes reachable again); they disappear from
 *       {@link #allWorkers()} once the node is downed and removed.
 *   <li>An unknown group is an empty group: {@link #workers} returns an empty list and {@link
 *       #pick} an empty {@code Optional}, never {@code null} or an exception.
 *   <li>{@link #drain} marks a worker {@link WorkerState#DRAINING}: {@code pick} skips it on every
 *       node that has seen the change, {@code workers} still lists it. A node that leaves the
 *       cluster gracefully drains its workers first.
 * </ul>
 *
 * <p><b>Consistency.</b> Eventually consistent: a node may briefly list a stopped worker or miss a
 * new one (on a healthy loopback cluster for a few milliseconds; see {@code docs/PERFORMANCE.md}).
 * The registering node sees its own registrations as soon as {@link #register} completes.
 *
 * <p><b>Cost.</b> {@link #workers}, {@link #allWorkers()} and both {@code pick}s read an immutable
 * snapshot that a local actor keeps current: no actor round trip, no lock, safe from any thread.
 *
 * @since 0.1.0
 */
public interface WorkerRegistry {

  /**
   * Adds {@code worker}, an actor of this node, to {@code group}; idempotent.
   *
   * @return a stage completed when this node's reads show the registration (the other nodes follow
   *     within milliseconds), or failed with {@link IllegalArgumentException} if {@code worker} is
   *     not an actor of this node
   * @throws IllegalArgumentException if {@code group} or {@code worker} is null
   */
  <T> CompletionStage<Done> register(WorkerGroup<T> group, ActorRef<T> worker);

  /**
   * Removes {@code worker} from {@code group}; completes also when it was not a member. The worker
   * keeps running.
   *
   * @return a stage completed when this node's reads no longer show the worker (the other nodes
   *     follow within milliseconds), or failed with {@link IllegalArgumentException} if {@code
   *     worker} is not an actor of this node
   * @throws IllegalArgumentException if {@code group} or {@code worker} is null
   */
  <T> CompletionStage<Done> unregister(WorkerGroup<T> group, ActorRef<T> worker);

  /**
   * Marks {@code worker} {@link WorkerState#DRAINING} in {@code group}: no node picks it any more
   * once it has seen the change; it stays listed until it stops or is unregistered.
   *
   * @return a stage completed when the reachable nodes have acknowledged the change (or after
   *     {@code troupe.core.registry.write-timeout}; a node that did not acknowledge it gets it with
   *     its next full copy); failed with {@link IllegalArgumentException} if {@code worker} is not
   *     a registered member of {@code group} on this node
   * @throws IllegalArgumentException if {@code group} or {@code worker} is null
   */
  <T> CompletionStage<Done> drain(WorkerGroup<T> group, ActorRef<T> worker);

  /**
   * The members of {@code group} on reachable nodes, ACTIVE and DRAINING, oldest registration
   * first; never {@code null}, empty for an unknown group.
   *
   * @throws IllegalArgumentException if {@code group} is null
   */
  <T> List<WorkerEntry<T>> workers(WorkerGroup<T> group);

  /**
   * Every group with its members, cluster-wide, including members on unreachable nodes that have
   * not been downed yet; group name to entries, oldest registration first.
   */
  Map<String, List<WorkerEntry<?>>> allWorkers();

  /**
   * Picks an ACTIVE member of {@code group} round-robin; empty if there is none.
   *
   * @throws IllegalArgumentException if {@code group} is null
   */
  <T> Optional<ActorRef<T>> pick(WorkerGroup<T> group);

  /**
   * Picks the ACTIVE member of {@code group} that owns {@code key} on a {@link HashRing} over the
   * ACTIVE members: the same key gives the same worker on every node while the members are the
   * same, and about 1/N of the keys move when one joins or leaves. Empty if there is none.
   *
   * @throws IllegalArgumentException if {@code group} or {@code key} is null
   */
  <T> Optional<ActorRef<T>> pick(WorkerGroup<T> group, String key);

  /**
   * Calls {@code listener} with the members of {@code group} (as {@link #workers} returns them) now
   * and after every change, until the subscription is closed.
   *
   * <p>The listener runs on the registry's actor: it must return quickly and must not block. An
   * exception it throws is logged and does not end the subscription.
   *
   * @throws IllegalArgumentException if {@code group} or {@code listener} is null
   */
  <T> Subscription subscribe(WorkerGroup<T> group, Consumer<List<WorkerEntry<T>>> listener);

  // ---- for behaviors: replies and listings as messages, no callbacks on foreign threads ----

  /**
   * {@link #register(WorkerGroup, ActorRef)} for a behavior: {@code replyTo} gets {@link
   * StatusReply#ack()} once the worker is listed on this node, or {@link StatusReply#error} with
   * the reason (for example a worker of another node).
   *
   * @throws IllegalArgumentException if an argument is null
   * @since 0.2.0
   */
  <T> void register(WorkerGroup<T> group, ActorRef<T> worker, ActorRef<StatusReply<Done>> replyTo);

  /**
   * {@link #unregister(WorkerGroup, ActorRef)} for a behavior; {@code replyTo} as for {@link
   * #register(WorkerGroup, ActorRef, ActorRef)}.
   *
   * @throws IllegalArgumentException if an argument is null
   * @since 0.2.0
   */
  <T> void unregister(
      WorkerGroup<T> group, ActorRef<T> worker, ActorRef<StatusReply<Done>> replyTo);

  /**
   * Subscribes an actor of this node to {@code group}, as {@code Receptionist.subscribe} does: it
   * gets a {@link WorkerListing} at once and after every change, in order, until it stops or is
   * {@linkplain #unsubscribe(WorkerGroup, ActorRef) unsubscribed}. Subscribing again with the same
   * actor and group does nothing.
   *
   * @throws IllegalArgumentException if an argument is null or {@code subscriber} is an actor of
   *     another node
   * @since 0.2.0
   */
  <T> void subscribe(WorkerGroup<T> group, ActorRef<WorkerListing<T>> subscriber);

  /**
   * Ends {@code subscriber}'s subscription to {@code group}; no listing is sent to it after the
   * registry has taken this request (one already on its way may still arrive).
   *
   * @throws IllegalArgumentException if an argument is null
   * @since 0.2.0
   */
  <T> void unsubscribe(WorkerGroup<T> group, ActorRef<WorkerListing<T>> subscriber);
}
