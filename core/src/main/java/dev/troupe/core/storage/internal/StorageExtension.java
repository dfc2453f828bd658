package dev.troupe.core.storage.internal;

import dev.troupe.core.storage.Storage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * INTERNAL API. Holds the node's shared {@link Storage}, one per actor system; users call {@link
 * Storage#get(ActorSystem)}.
 */
public final class StorageExtension implements Extension {
  /*
   * Lifecycle: the storage is opened on the first storage() call rather than when the extension is
   * created, because Pekko remembers an extension whose creation failed and rethrows that failure
   * for the system's lifetime; this way a node whose database was down retries on the next call.
   * It is closed once the system has terminated, after CoordinatedShutdown, so shutdown tasks may
   * still use it; after that storage() refuses to open a new one.
   */

  private static final Id ID = new Id();

  private final ActorSystem<?> system;
  private volatile Storage storage; // written under this
  private boolean terminated; // guarded by this

  private StorageExtension(ActorSystem<?> system) {
    this.system = system;
    system.getWhenTerminated().thenRun(this::closeAfterTermination);
  }

  /** The extension of {@code system}, created on first call. */
  public static StorageExtension get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /**
   * The shared storage, opened from {@code troupe.storage} on first call; a failed open is retried
   * by the next call.
   *
   * @throws IllegalStateException if the actor system has terminated
   */
  public Storage storage() {
    Storage current = storage;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (terminated) {
        throw new IllegalStateException(
            "Actor system [" + system.name() + "] has terminated: its shared Storage is closed");
      }
      if (storage == null) {
        storage = Storage.create(system);
      }
      return storage;
    }
  }

  private synchronized void closeAfterTermination() {
    terminated = true;
    Storage closing = storage;
    storage = null; // before closing: whoever sees it closed also sees it gone
    if (closing != null) {
      closing.close();
    }
  }

  /** The extension's id; Pekko keeps one extension per id and system. */
  static final class Id extends ExtensionId<StorageExtension> {
    @Override
    public StorageExtension createExtension(ActorSystem<?> system) {
      return new StorageExtension(system);
    }
  }
}
