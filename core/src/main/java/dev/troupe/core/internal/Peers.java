package dev.troupe.core.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API. The same system actor on every other Up member, addressed by path (Troupe's core
 * actors have fixed names), for the flush hints of the registry and the address book. Not
 * thread-safe: one per actor.
 */
final class Peers<T> {
  private final ActorSystem<?> system;
  private final String path;
  private final Address self;
  private final Map<Address, ActorRef<T>> refs = new HashMap<>();

  /** Peers of the system actor {@code name} ({@code /system/<name>}). */
  Peers(ActorSystem<?> system, String name) {
    this.system = system;
    this.path = "/system/" + name;
    this.self = Cluster.get(system).selfMember().address();
  }

  /** Calls {@code action} with the actor on every Up member but this one. */
  void forEach(Consumer<ActorRef<T>> action) {
    for (Member member : Cluster.get(system).state().getMembers()) {
      Address address = member.address();
      if (!address.equals(self)
          && (member.status().equals(MemberStatus.up())
              || member.status().equals(MemberStatus.weaklyUp()))) {
        action.accept(
            refs.computeIfAbsent(
                address, a -> ActorRefResolver.get(system).resolveActorRef(a.toString() + path)));
      }
    }
    if (refs.size() > 1000) {
      refs.clear(); // forget removed members now and then
    }
  }
}
