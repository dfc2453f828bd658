package dev.troupe.core.internal;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * INTERNAL API. Stands in the receptionist for one registration of one worker in one group, and
 * stops when the worker stops.
 *
 * <p>Why not register the worker itself: Pekko 1.7's cluster receptionist crashes - and is never
 * restarted - when it is asked to deregister an actor it no longer has, which happens whenever an
 * unregister races with the worker's own termination. The registry therefore never deregisters: it
 * registers a handle per registration and unregisters by stopping the handle, which the
 * receptionist removes through its own watch.
 */
public final class RegistrationHandle {
  private RegistrationHandle() {}

  /** A handle for {@code worker}; it takes no messages. */
  public static Behavior<Object> create(ActorRef<?> worker) {
    return Behaviors.setup(
        ctx -> {
          ctx.watch(worker);
          return Behaviors.receive(Object.class)
              .onSignal(Terminated.class, t -> Behaviors.stopped())
              .build();
        });
  }
}
