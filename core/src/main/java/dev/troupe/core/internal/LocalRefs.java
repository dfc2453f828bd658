package dev.troupe.core.internal;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;

/** INTERNAL API. Whether a ref belongs to this node's actor system. */
public final class LocalRefs {
  private LocalRefs() {}

  /**
   * Whether {@code ref} is an actor of {@code system}: its path has no host, and it is not an actor
   * of another actor system in the same JVM (which may even have the same name).
   */
  public static boolean isLocal(ActorSystem<?> system, ActorRef<?> ref) {
    if (!ref.path().address().hasLocalScope()) {
      return false;
    }
    try {
      ActorRefResolver.get(system).toSerializationFormat(ref); // refuses another system's actor
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
