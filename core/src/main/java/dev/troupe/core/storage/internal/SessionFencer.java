package dev.troupe.core.storage.internal;

import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. Ends the PostgreSQL sessions ({@link NodeSessions}: pool and lock connections) of
 * every member that is removed from the cluster, retrying until the server lists none.
 *
 * <p>Why: a paused process (GC, SIGSTOP, a frozen VM) keeps its database sessions - the kernel even
 * answers TCP keepalives for it - and with them its advisory locks and the row locks of a
 * transaction it was in, while the cluster has downed and removed it and moved its work elsewhere.
 * Ending its sessions frees them for the successor; when it resumes, its next statement fails, its
 * lock heartbeat fails and it self-fences, and its late writes carry a token that is no longer
 * current. Every node with a PostgreSQL storage does this (termination is idempotent).
 */
public final class SessionFencer {
  private static final Logger log = LoggerFactory.getLogger(SessionFencer.class);

  /** Delays between attempts: the first at once, then backing off; about 8 s in all. */
  private static final Duration[] BACKOFF = {
    Duration.ZERO,
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(2),
    Duration.ofSeconds(4)
  };

  private SessionFencer() {}

  /** The fencer of the database of {@code storage} (opened when first needed). */
  public static Behavior<ClusterEvent.MemberRemoved> create(Supplier<Storage> storage) {
    return Behaviors.setup(
        ctx -> {
          Cluster cluster = Cluster.get(ctx.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberRemoved.class));
          return Behaviors.receiveMessage(
              removed -> {
                MemberStatus previous = removed.previousStatus();
                boolean fence =
                    cluster.selfMember().status().equals(MemberStatus.up())
                        && CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isEmpty()
                        && (previous.equals(MemberStatus.down())
                            || previous.equals(MemberStatus.exiting()));
                if (fence) {
                  String owner = JdbcLockRegistry.ownerOf(removed.member().uniqueAddress());
                  attempt(storage, owner, 0);
                }
                return Behaviors.same();
              });
        });
  }

  /** Terminates {@code owner}'s sessions, then checks that none is left; retries otherwise. */
  private static void attempt(Supplier<Storage> storage, String owner, int attempt) {
    Duration delay = BACKOFF[attempt];
    Executor executor = CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS);
    CompletableFuture.supplyAsync(
            () -> {
              Storage db = storage.get();
              int terminated = NodeSessions.terminate(db, owner);
              if (terminated > 0) {
                log.info("Ended {} database session(s) of removed member [{}]", terminated, owner);
              }
              return NodeSessions.remaining(db, owner);
            },
            executor)
        .whenComplete(
            (remaining, failure) -> {
              if (failure == null && remaining == 0) {
                return;
              }
              String why =
                  failure != null ? failure.toString() : remaining + " session(s) still listed";
              if (attempt + 1 < BACKOFF.length) {
                log.debug("Fencing removed member [{}] again: {}", owner, why);
                attempt(storage, owner, attempt + 1);
              } else {
                log.warn(
                    "Could not end the database sessions of removed member [{}] after {}"
                        + " attempts: {}",
                    owner,
                    BACKOFF.length,
                    why);
              }
            });
  }
}
