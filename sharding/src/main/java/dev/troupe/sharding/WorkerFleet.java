package dev.troupe.sharding;

import dev.troupe.core.TroupeNode;
import dev.troupe.sharding.internal.WorkerFleetImpl;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One actor per key — a chat room, a cart, a device twin — started on demand on the node the {@link
 * dev.troupe.core.HashRing} picks for the key, passivated when idle, restarted when it fails:
 * Elixir's Registry + DynamicSupervisor on Pekko Cluster Sharding.
 *
 * <pre>{@code
 * WorkerFleet<Cart.Command> carts = WorkerFleet.start(node, FleetSpec.of("carts",
 *     Cart.Command.class, key -> Cart.create(key, repository)));     // on every node
 * carts.tell("cart-42", new Cart.Add(item));                        // from any node
 * CompletionStage<Cart.Summary> s = carts.ask("cart-42", Cart.Get::new, Duration.ofSeconds(3));
 * }</pre>
 *
 * <p><b>Placement.</b> A key's shard is its ring partition, and each shard lives on the partition's
 * owner among the nodes that run the fleet, so {@code node.addressBook().pickNode(key)} names the
 * node of the key's worker (and daemons and cron jobs placed by the same key land there too). When
 * a node joins, only the shards whose ring owner changed move (about 1/N of them, a bounded number
 * per rebalance round); when a node leaves, only its shards move. Messages for a key whose shard is
 * moving are buffered and delivered on the new node.
 *
 * <p><b>Failures.</b> A worker that throws is restarted at once the first times (its factory runs
 * again and reloads its state), then with a backoff while it keeps failing; messages that arrive
 * meanwhile are delivered to the restarted worker, not dropped.
 *
 * <p>Thread-safe. Messages that cross nodes must be serializable ({@link
 * dev.troupe.core.TroupeSerializable}).
 *
 * @param <M> the workers' protocol
 * @since 0.1.0
 */
public interface WorkerFleet<M> {

  /**
   * Starts (or returns the already started) fleet of {@code spec} on {@code node}; call it on every
   * node that hosts the fleet, with the same spec.
   *
   * @throws IllegalArgumentException if an argument is null, or a fleet of the same name with
   *     another protocol runs on the node
   */
  static <M> WorkerFleet<M> start(TroupeNode node, FleetSpec<M> spec) {
    return WorkerFleetImpl.start(node, spec);
  }

  /** The fleet's spec. */
  FleetSpec<M> spec();

  /**
   * Sends {@code message} to the worker of {@code key}, starting it if needed.
   *
   * @throws IllegalArgumentException if {@code key} is null or empty, or {@code message} is null or
   *     not of the fleet's protocol
   */
  void tell(String key, M message);

  /**
   * Asks the worker of {@code key}, starting it if needed.
   *
   * @return the reply, or a stage failed with a {@link java.util.concurrent.TimeoutException} after
   *     {@code timeout}
   * @throws IllegalArgumentException if an argument is null, {@code key} empty or {@code timeout}
   *     not positive
   */
  <R> CompletionStage<R> ask(String key, Function<ActorRef<R>, M> message, Duration timeout);

  /**
   * Asks the workers of many keys at once and reports, per key, the reply, a crash of the worker
   * while it handled the message, or a timeout; completes by {@code timeout} (plus a little
   * bookkeeping), never later.
   *
   * @throws IllegalArgumentException if an argument is null, a key empty, or {@code timeout} not
   *     positive
   */
  <R> CompletionStage<BroadcastResult<R>> broadcast(
      Map<String, Function<ActorRef<R>, M>> messages, Duration timeout);

  /**
   * Sends each message to the worker of its key, starting missing workers; fire-and-forget.
   *
   * @throws IllegalArgumentException as {@link #tell} for any entry
   */
  void publish(Map<String, M> messages);

  /** The number of running workers in the cluster, from the shard regions' statistics. */
  CompletionStage<Integer> activeCount();

  /** The keys of the running workers in the cluster, asked from every node that runs the fleet. */
  CompletionStage<Set<String>> activeKeys();

  /**
   * Where the worker of {@code key} is active now (Electric's {@code whereis}): the address of the
   * node it runs on, or empty if no node runs it (it was never started, was passivated or stopped).
   * Asks every node that runs the fleet (whose shard region the shard coordinator knows: a node
   * that has only just started the fleet may be missed); during a hand-off the answer may name the
   * old or the new node.
   *
   * @throws IllegalArgumentException if {@code key} is null or empty
   * @since 0.3.0
   */
  CompletionStage<Optional<Address>> whereis(String key);

  /**
   * Stops the worker of {@code key} now (Electric's {@code remove_consumer}), through its shard as
   * a passivation (the spec's stop message, if any, is its last message); the next message to the
   * key starts it again, with its state from its factory. Completes when it has stopped, or at once
   * if no node runs it.
   *
   * @return {@code true} if a worker ran and was stopped, {@code false} if none ran
   * @throws IllegalArgumentException if {@code key} is null or empty
   * @since 0.3.0
   */
  CompletionStage<Boolean> stop(String key);

  /**
   * Changes the idle passivation of the fleet on every node, also for running workers: each worker
   * gets a new random extra idle time in {@code [0, jitter]}, so that enabling a shorter timeout
   * does not stop every idle worker at the same moment. {@code idle = Duration.ZERO} turns
   * passivation off. The setting is kept in Distributed Data: a node that starts the fleet later
   * applies it too (instead of the spec's).
   *
   * @return a stage completed with the number of running workers that got the new setting, when
   *     every node that runs the fleet has applied it
   * @throws IllegalArgumentException if a duration is null or negative
   * @since 0.3.0
   */
  CompletionStage<Integer> reconfigurePassivation(Duration idle, Duration jitter);

  /**
   * {@link #reconfigurePassivation} without the count.
   *
   * @return a stage completed when every node that runs the fleet has applied it
   * @throws IllegalArgumentException if a duration is null or negative
   */
  default CompletionStage<Done> setPassivation(Duration idle, Duration jitter) {
    return reconfigurePassivation(idle, jitter).thenApply(count -> Done.getInstance());
  }

  /** The fleet's meters on this node. */
  FleetMetrics metrics();
}
