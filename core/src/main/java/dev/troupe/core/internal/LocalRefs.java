package dev.troupe.core.internal;

import org.apache.pekko.actor.typed.ActorRef;

/** INTERNAL API. Whether a ref belongs to this actor system. */
public final class LocalRefs {
  private LocalRefs() {}

  /** Whether {@code ref} is an actor of the local actor system (its path has no host). */
  public static boolean isLocal(ActorRef<?> ref) {
    return ref.path().address().hasLocalScope();
  }
}
