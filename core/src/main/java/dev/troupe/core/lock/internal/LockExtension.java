package dev.troupe.core.lock.internal;

import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.lock.LockSettings;
import dev.troupe.core.storage.Storage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * INTERNAL API. The node's {@link JdbcLockRegistry}, created on first use (so that a database that
 * is down at that moment is retried by the next call, not remembered as a failed extension) and
 * closed when the node terminates. (The node's storage fences removed members' sessions.)
 */
public final class LockExtension implements Extension {
  private static final Id ID = new Id();

  private final ActorSystem<?> system;
  private volatile JdbcLockRegistry registry; // written under this
  private boolean terminated; // guarded by this

  private LockExtension(ActorSystem<?> system) {
    this.system = system;
    system.getWhenTerminated().thenRun(this::closeAfterTermination);
  }

  /** The extension of {@code system}. */
  public static LockExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** The node's registry, created on first call. */
  public JdbcLockRegistry registry() {
    JdbcLockRegistry current = registry;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (terminated) {
        throw new IllegalStateException(
            "Actor system [" + system.name() + "] has terminated: its lock registry is closed");
      }
      if (registry == null) {
        Storage storage = Storage.get(system);
        String owner = JdbcLockRegistry.ownerOf(Cluster.get(system).selfMember().uniqueAddress());
        registry =
            JdbcLockRegistry.create(
                storage, owner, LockSettings.fromConfig(system.settings().config()));
      }
      return registry;
    }
  }

  private synchronized void closeAfterTermination() {
    terminated = true;
    if (registry != null) {
      registry.close();
    }
  }

  static final class Id extends ExtensionId<LockExtension> {
    @Override
    public LockExtension createExtension(ActorSystem<?> system) {
      return new LockExtension(system);
    }
  }
}
