package dev.troupe.daemons;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.TroupeNode;
import dev.troupe.core.lock.Lock;
import dev.troupe.core.lock.LockRegistry;
import dev.troupe.daemons.internal.LeaderOnlyActor;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;

/**
 * Competing consumers: a behavior that runs only on the node holding lock {@code name}, with the
 * lock's fencing token; the other nodes stand by and take over when the lock frees.
 *
 * <pre>{@code
 * LeaderOnly.run(node, "projection-orders", JdbcLockRegistry.get(node.system()),
 *     token -> OrdersProjection.create(token));        // on every node
 * }</pre>
 *
 * <p>On each node a small actor waits for the lock ({@code acquire}); when it gets it, it starts
 * {@code behaviorForToken.apply(fencingToken)} as its child. When the lock is lost (the registry
 * learned it is gone: a failed heartbeat, a terminated session, an expired lease) the child is
 * stopped and the node waits for the lock again; when the child stops by itself, the lock is
 * released so another node can take over. A later holder always gets a larger token: protected
 * writes should check it ({@code JdbcLockRegistry.requireCurrentToken}).
 *
 * @since 0.1.0
 */
public final class LeaderOnly {
  private LeaderOnly() {}

  /**
   * Competes for lock {@code name} on {@code node} and runs the behavior while holding it.
   *
   * @return the node's competitor actor (stop it to leave the competition)
   * @throws IllegalArgumentException if an argument is null or {@code name} blank
   */
  public static <M> ActorRef<?> run(
      TroupeNode node,
      String name,
      LockRegistry locks,
      Function<Long, Behavior<M>> behaviorForToken) {
    requireNonNull(node, "node");
    requireNonBlank(name, "name");
    requireNonNull(locks, "locks");
    requireNonNull(behaviorForToken, "behaviorForToken");
    return runWithLock(node, name, locks, lock -> behaviorForToken.apply(lock.fencingToken()));
  }

  /**
   * As {@link #run}, but the behavior gets the {@link Lock} itself: its {@link Lock#fencingToken()}
   * and {@link Lock#isHeld()}, which answers from this node's own clock — false as soon as the last
   * good heartbeat is older than {@code troupe.lock.heartbeat-interval + heartbeat-timeout}, before
   * anyone else can take the lock. The lost-lock stop comes only once the loss is noticed; a node
   * resumed from a pause may run queued messages before that, so a behavior whose acts must never
   * overlap its successor's checks {@code isHeld()} before each one.
   *
   * <pre>{@code
   * LeaderOnly.runWithLock(node, "projection-orders", locks,
   *     lock -> OrdersProjection.create(lock));   // acts only while lock.isHeld()
   * }</pre>
   *
   * @return the node's competitor actor (stop it to leave the competition)
   * @throws IllegalArgumentException if an argument is null or {@code name} blank
   */
  public static <M> ActorRef<?> runWithLock(
      TroupeNode node,
      String name,
      LockRegistry locks,
      Function<Lock, Behavior<M>> behaviorForLock) {
    requireNonNull(node, "node");
    requireNonBlank(name, "name");
    requireNonNull(locks, "locks");
    requireNonNull(behaviorForLock, "behaviorForLock");
    return node.system()
        .systemActorOf(
            LeaderOnlyActor.create(name, locks, behaviorForLock),
            "troupeLeaderOnly-" + URLEncoder.encode(name, StandardCharsets.UTF_8),
            Props.empty());
  }
}
