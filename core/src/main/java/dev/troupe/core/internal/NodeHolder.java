package dev.troupe.core.internal;

import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * INTERNAL API. Holds the one {@code TroupeNode} of an actor system (a Pekko extension), so that
 * {@code TroupeNode.attach} is idempotent and returns the node {@code TroupeNode.start} made for
 * its own system.
 */
public final class NodeHolder implements Extension {
  private static final Id ID = new Id();

  private Object node; // the TroupeNode; guarded by this

  private NodeHolder() {}

  /** The holder of {@code system}. */
  public static NodeHolder get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The system's node, made by {@code create} on the first call. */
  @SuppressWarnings("unchecked")
  public synchronized <T> T node(Supplier<T> create) {
    if (node == null) {
      node = create.get();
    }
    return (T) node;
  }

  /** The system's node if one was made; never makes one. */
  @SuppressWarnings("unchecked")
  public synchronized <T> java.util.Optional<T> existing() {
    return java.util.Optional.ofNullable((T) node);
  }

  /** The extension's id; Pekko keeps one extension per id and system. */
  static final class Id extends ExtensionId<NodeHolder> {
    @Override
    public NodeHolder createExtension(ActorSystem<?> system) {
      return new NodeHolder();
    }
  }
}
