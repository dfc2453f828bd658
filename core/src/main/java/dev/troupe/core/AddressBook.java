package dev.troupe.core;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * Cluster-wide names of single actors, and the node set that placement uses: ergo-extensions'
 * {@code whereis} and AddressBook, replicated as Erlang {@code pg} does. Obtained from {@link
 * TroupeNode#addressBook()}.
 *
 * <pre>{@code
 * book.register("billing", billingRef, Billing.Command.class);    // on billingRef's node
 * book.locate("billing");                                         // Optional<Address>, any node
 * book.lookup("billing", Billing.Command.class).ifPresent(b -> b.tell(new Billing.Charge(10)));
 * Address home = book.pickNode("cart-42");                        // the ring's node for the key
 * }</pre>
 *
 * <p><b>One holder per name: the oldest wins.</b> If two live actors hold one name (two nodes
 * registered it concurrently, or during a partition), every node resolves the same one: the
 * earliest registration, by the registering nodes' clocks, ties broken by node address (a holder
 * registered with a higher {@linkplain #registerRanked rank} wins over older ones). The younger
 * holder is then stopped by its own node, or told the message given to {@link #register(String,
 * ActorRef, Class, Object)}. A name whose holder stops, or whose node is removed from the cluster,
 * is freed.
 *
 * <p><b>Consistency.</b> Eventually consistent reads of a local replica ({@link #locate}, {@link
 * #lookup}, {@link #resolve}, {@link #snapshot}): no actor round trip. {@link #resolve} tells
 * "absent" from "this node cannot tell yet"; {@link #query} reads from a majority of nodes.
 *
 * <p><b>Names and limits.</b> A name is a {@linkplain Names name}: {@value Names#RULE}; {@code
 * register} refuses any other with an {@link IllegalArgumentException} naming the value and the
 * rule. Reads ({@link #locate}, {@link #resolve}, {@link #lookup}) take any string: one that breaks
 * the rule is simply never found. The book holds at most {@code troupe.core.address-book.max-names}
 * names (default 1 000 000); past it {@code register} of a new name fails its stage with an {@link
 * IllegalStateException} naming the setting. Tested with 100 000 names on three nodes (FAULTS.md
 * R5).
 *
 * @since 0.1.0
 */
public interface AddressBook {
  /**
   * The longest name {@code register} accepts, in UTF-8 bytes: {@value}, which is {@link
   * Names#MAX_UTF8_BYTES}.
   *
   * @since 0.1.0
   */
  int MAX_NAME_BYTES = Names.MAX_UTF8_BYTES;

  /**
   * Names {@code ref}, an actor of this node, {@code name} cluster-wide, without a protocol check
   * on {@link #lookup}. If an older live holder of {@code name} exists, {@code ref} is stopped.
   *
   * @return a stage completed when the registration is in this node's replica, or failed with
   *     {@link IllegalArgumentException} if {@code ref} is not an actor of this node
   * @throws IllegalArgumentException if {@code name} is not a valid {@linkplain Names name} (null,
   *     empty, longer than {@value #MAX_NAME_BYTES} bytes in UTF-8, or with a character outside the
   *     rule), or {@code ref} is null; the message names the value and the rule
   */
  CompletionStage<Done> register(String name, ActorRef<?> ref);

  /**
   * Names {@code ref} {@code name} cluster-wide with its protocol: {@link #lookup} with another
   * class fails. If an older live holder of {@code name} exists, {@code ref} is stopped.
   *
   * @throws IllegalArgumentException if an argument is null, or {@code name} is not a valid
   *     {@linkplain Names name}; the message names the value and the rule
   */
  <T> CompletionStage<Done> register(String name, ActorRef<T> ref, Class<T> protocol);

  /**
   * Like {@link #register(String, ActorRef, Class)}, but a younger duplicate is told {@code
   * onDuplicate} instead of being stopped, so that it can finish its work and stop itself.
   *
   * @throws IllegalArgumentException if an argument is null, or {@code name} is not a valid
   *     {@linkplain Names name}; the message names the value and the rule
   */
  <T> CompletionStage<Done> register(
      String name, ActorRef<T> ref, Class<T> protocol, T onDuplicate);

  /**
   * Names {@code ref} {@code name} cluster-wide with a rank: a holder with a higher rank wins over
   * an older one (equal ranks: the oldest wins), and the loser is stopped by its node. For holders
   * whose freshness a coordinator knows better than the clock, such as a daemon placed again with a
   * larger epoch while its old instance sat on an unreachable node.
   *
   * @throws IllegalArgumentException if an argument is null, or {@code name} is not a valid
   *     {@linkplain Names name}; the message names the value and the rule
   */
  <T> CompletionStage<Done> registerRanked(
      String name, ActorRef<T> ref, Class<T> protocol, long rank);

  /**
   * The node of the live holder of {@code name}; empty if this node knows of none (see {@link
   * #resolve} to tell "absent" from "not known yet").
   *
   * @throws IllegalArgumentException if {@code name} is null
   */
  Optional<Address> locate(String name);

  /**
   * Where {@code name} lives: {@link Location.Found}, {@link Location.Absent}, or {@link
   * Location.Unknown} while this node's view is converging.
   *
   * @throws IllegalArgumentException if {@code name} is null
   */
  Location resolve(String name);

  /**
   * The live holder of {@code name}; empty if this node knows of none.
   *
   * @throws IllegalArgumentException if an argument is null, or if {@code name} was registered with
   *     a protocol other than {@code protocol}; the message names both
   */
  <T> Optional<ActorRef<T>> lookup(String name, Class<T> protocol);

  /**
   * The node that owns {@code key} on the {@link HashRing} over {@link #availableNodes()}: the same
   * answer on every node that sees the same members. Fleets, daemons and cron jobs are placed with
   * it, so all of them for one key land on this node.
   *
   * @throws IllegalArgumentException if {@code key} is null
   * @throws IllegalStateException if no node is available (this node is not Up yet)
   */
  Address pickNode(String key);

  /** The Up and reachable members, as this node sees them. */
  Set<Address> availableNodes();

  /** Every registered name by node, including duplicates that are about to be stopped. */
  Map<Address, Set<String>> snapshot();

  /**
   * Reads every name from a majority of the nodes and returns each name's holder by the oldest-wins
   * rule; fails with a {@link java.util.concurrent.TimeoutException} if no majority answers in
   * {@code timeout}.
   *
   * @throws IllegalArgumentException if {@code timeout} is null or not positive
   */
  CompletionStage<Map<String, Address>> query(Duration timeout);

  /**
   * {@link #register(String, ActorRef)} for a behavior: {@code replyTo} gets {@link
   * StatusReply#ack()} once the name is held on this node, or {@link StatusReply#error} with the
   * reason (for example the {@code max-names} limit).
   *
   * @throws IllegalArgumentException if an argument is null or {@code name} is not a valid
   *     {@linkplain Names name}; the message names the value and the rule
   * @since 0.2.0
   */
  void register(String name, ActorRef<?> ref, ActorRef<StatusReply<Done>> replyTo);
}
