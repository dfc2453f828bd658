package dev.troupe.core.internal;

import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.ActorPath;
import org.apache.pekko.actor.ActorRefProvider;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.RootActorPath;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * INTERNAL API. Resolves the actor refs of other nodes' entries from their paths ({@code
 * /user/workers/w-1#123}), sharing one parent path per node and parent among all its children: a
 * ref resolved from a whole string gets its own copy of the address and of every path element,
 * which at 100,000 entries was most of the registry's memory. Not thread-safe: one per actor.
 */
final class RemoteRefs {
  private static final int MAX_PARENTS = 10_000;

  private final ActorRefProvider provider;
  private final ActorRefResolver resolver;
  private final Map<String, ActorPath> parents = new HashMap<>();

  RemoteRefs(ActorSystem<?> system) {
    this.provider = ((ExtendedActorSystem) Adapter.toClassic(system)).provider();
    this.resolver = ActorRefResolver.get(system);
  }

  /** The ref of {@code path} on {@code node} (whose address is {@code address}). */
  ActorRef<Object> resolve(String node, Address address, String path) {
    int hash = path.lastIndexOf('#');
    int slash = hash < 0 ? -1 : path.lastIndexOf('/', hash);
    if (slash <= 0 || hash == path.length() - 1 || path.indexOf('%') >= 0) {
      return resolver.resolveActorRef(node + path); // unusual shapes: Pekko's own parser
    }
    int uid;
    try {
      uid = Integer.parseInt(path, hash + 1, path.length(), 10);
    } catch (NumberFormatException e) {
      return resolver.resolveActorRef(node + path);
    }
    String parentPath = path.substring(0, slash);
    String key = node + parentPath;
    ActorPath parent = parents.get(key);
    if (parent == null) {
      if (parents.size() >= MAX_PARENTS) {
        parents.clear(); // a bound, not a policy: parents are few (one per pool of workers)
      }
      parent = new RootActorPath(address, "/");
      for (String element : parentPath.split("/")) {
        if (!element.isEmpty()) {
          parent = parent.child(element);
        }
      }
      parents.put(key, parent);
    }
    ActorPath full = parent.child(path.substring(slash + 1, hash)).withUid(uid);
    return Adapter.toTyped(provider.resolveActorRef(full));
  }
}
