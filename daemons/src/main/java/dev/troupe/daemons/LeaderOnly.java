package dev.troupe.daemons;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.TroupeNode;
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
    return node.system()
        .systemActorOf(
            LeaderOnlyActor.create(name, locks, behaviorForToken),
            "troupeLeaderOnly-" + URLEncoder.encode(name, StandardCharsets.UTF_8),
            Props.empty());
  }
}
