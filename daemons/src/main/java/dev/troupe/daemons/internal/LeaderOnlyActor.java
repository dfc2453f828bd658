package dev.troupe.daemons.internal;

import dev.troupe.core.lock.Lock;
import dev.troupe.core.lock.LockRegistry;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** INTERNAL API. One node's competitor for a {@code LeaderOnly} lock. */
public final class LeaderOnlyActor {
  /*
   * Phases: standby() asks the registry for the lock (a waiting acquire); leading(lock, child)
   * runs the user's behavior as a child. Lock lost -> stop the child, back to standby; child
   * stopped by itself -> release the lock (someone else may lead), back to standby; a failed
   * acquire (database down) -> standby again after a pause. PostStop releases the lock.
   */
  private LeaderOnlyActor() {}

  /** The protocol. */
  public sealed interface Command {}

  private record Acquired(Lock lock, Throwable failure) implements Command {}

  private record Lost(long token) implements Command {}

  private record ChildStopped(long token) implements Command {}

  private enum TryAgain implements Command {
    INSTANCE
  }

  /** The competitor of lock {@code name}. */
  public static <M> Behavior<Command> create(
      String name, LockRegistry locks, Function<Lock, Behavior<M>> behaviorForLock) {
    return Behaviors.setup(ctx -> standby(ctx, name, locks, behaviorForLock));
  }

  private static <M> Behavior<Command> standby(
      ActorContext<Command> ctx,
      String name,
      LockRegistry locks,
      Function<Lock, Behavior<M>> behaviorForLock) {
    java.util.concurrent.CompletableFuture<Lock> acquiring =
        locks.acquire(name).toCompletableFuture();
    ctx.pipeToSelf(acquiring, Acquired::new);
    return Behaviors.withTimers(
        timers ->
            Behaviors.receive(Command.class)
                .onMessage(
                    Acquired.class,
                    msg -> {
                      if (msg.failure() != null) {
                        ctx.getLog()
                            .warn(
                                "LeaderOnly [{}]: acquiring the lock failed; trying again: {}",
                                name,
                                msg.failure().toString());
                        timers.startSingleTimer(TryAgain.INSTANCE, java.time.Duration.ofSeconds(1));
                        return Behaviors.same();
                      }
                      return leading(ctx, name, locks, behaviorForLock, msg.lock());
                    })
                .onMessageEquals(
                    TryAgain.INSTANCE, () -> standby(ctx, name, locks, behaviorForLock))
                .onMessage(Lost.class, m -> Behaviors.same())
                .onMessage(ChildStopped.class, m -> Behaviors.same())
                .onSignal(
                    PostStop.class,
                    signal -> {
                      acquiring.cancel(false); // a lock acquired after all is released
                      return Behaviors.same();
                    })
                .build());
  }

  private static <M> Behavior<Command> leading(
      ActorContext<Command> ctx,
      String name,
      LockRegistry locks,
      Function<Lock, Behavior<M>> behaviorForLock,
      Lock lock) {
    long token = lock.fencingToken();
    ActorRef<Command> self = ctx.getSelf();
    lock.onLost(() -> self.tell(new Lost(token)));
    ActorRef<M> child = ctx.spawn(behaviorForLock.apply(lock), "leader-" + token);
    ctx.watchWith(child, new ChildStopped(token));
    ctx.getLog().info("LeaderOnly [{}]: leading with token {}", name, token);
    return Behaviors.receive(Command.class)
        .onMessage(
            Lost.class,
            msg -> {
              if (msg.token() != token) {
                return Behaviors.same();
              }
              ctx.getLog().warn("LeaderOnly [{}]: lock lost (token {}); stopping", name, token);
              ctx.unwatch(child);
              ctx.stop(child);
              return standby(ctx, name, locks, behaviorForLock);
            })
        .onMessage(
            ChildStopped.class,
            msg -> {
              ctx.getLog().info("LeaderOnly [{}]: behavior stopped; releasing the lock", name);
              lock.release();
              return standby(ctx, name, locks, behaviorForLock);
            })
        .onMessage(Acquired.class, msg -> released(msg.lock()))
        .onSignal(
            PostStop.class,
            signal -> {
              lock.release();
              return Behaviors.same();
            })
        .build();
  }

  /** A lock acquired by an earlier standby that is no longer wanted. */
  private static Behavior<Command> released(Lock lock) {
    if (lock != null) {
      lock.release();
    }
    return Behaviors.same();
  }
}
