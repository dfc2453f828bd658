package dev.troupe.core.lock.internal;

import dev.troupe.core.lock.JdbcLockRegistry;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * INTERNAL API. Terminates the PostgreSQL lock sessions of every member that is removed from the
 * cluster.
 *
 * <p>Why: a paused process (GC, SIGSTOP, a frozen VM) keeps its database session, and with it its
 * advisory locks - the kernel even answers TCP keepalives for it - while the cluster has downed and
 * removed it and moved its work elsewhere. Terminating its sessions frees its locks for the new
 * owner; when it resumes, its next heartbeat fails and it self-fences, and its late writes carry a
 * token that is no longer current. Every node that runs a registry does this (the call is
 * idempotent).
 */
public final class SessionFencer {
  private SessionFencer() {}

  /** The fencer of {@code registry}'s database. */
  public static Behavior<ClusterEvent.MemberRemoved> create(JdbcLockRegistry registry) {
    return Behaviors.setup(
        ctx -> {
          Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberRemoved.class));
          Cluster cluster = Cluster.get(ctx.getSystem());
          return Behaviors.receiveMessage(
              removed -> {
                MemberStatus previous = removed.previousStatus();
                boolean fence =
                    cluster.selfMember().status().equals(MemberStatus.up())
                        && CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isEmpty()
                        && (previous.equals(MemberStatus.down())
                            || previous.equals(MemberStatus.exiting()));
                if (!fence) {
                  return Behaviors.same();
                }
                String owner = JdbcLockRegistry.ownerOf(removed.member().uniqueAddress());
                CompletableFuture.runAsync(() -> registry.terminateSessions(owner))
                    .whenComplete(
                        (ok, failure) -> {
                          if (failure != null) {
                            ctx.getSystem()
                                .log()
                                .warn(
                                    "Could not terminate the lock sessions of removed member [{}]:"
                                        + " {}",
                                    owner,
                                    failure.toString());
                          }
                        });
                return Behaviors.same();
              });
        });
  }
}
