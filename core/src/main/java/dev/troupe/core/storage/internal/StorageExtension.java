package dev.troupe.core.storage.internal;

import dev.troupe.core.internal.NodeMeters;
import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageSettings;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.ClusterActorRefProvider;
import org.apache.pekko.cluster.typed.Cluster;

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
  private boolean fencing; // guarded by this

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
        storage = open();
      }
      return storage;
    }
  }

  /** The shared storage if it has been opened (and not closed); empty otherwise. Never opens it. */
  public java.util.Optional<Storage> opened() {
    Storage current = storage;
    return current == null || current.isClosed()
        ? java.util.Optional.empty()
        : java.util.Optional.of(current);
  }

  /**
   * Opens the node's storage. On PostgreSQL its connections carry the node's application_name
   * ({@link NodeSessions#poolName}), by which the {@link SessionFencer}s of the other nodes find
   * them when this node is removed.
   */
  private Storage open() {
    StorageSettings settings = StorageSettings.create(system);
    // Only a cluster member has an owner (host:port/uid); Storage.get also serves local systems.
    boolean member =
        system.classicSystem() instanceof ExtendedActorSystem extended
            && extended.provider() instanceof ClusterActorRefProvider;
    if (member && settings.url().startsWith("jdbc:postgresql:")) {
      String owner = JdbcLockRegistry.ownerOf(Cluster.get(system).selfMember().uniqueAddress());
      settings =
          settings.withUrl(
              NodeSessions.withApplicationName(settings.url(), NodeSessions.poolName(owner)));
    }
    return Storage.create(settings, NodeMeters.get(system).registry());
  }

  /**
   * Starts the {@link SessionFencer} of this node if its storage is PostgreSQL (once): every Troupe
   * node fences removed members, whether or not it has used the storage yet (it is opened when a
   * member is removed).
   */
  public synchronized void startFencing() {
    if (fencing || terminated) {
      return;
    }
    fencing = true;
    if (StorageSettings.create(system).url().startsWith("jdbc:postgresql:")) {
      system.systemActorOf(
          SessionFencer.create(this::storage), "troupeSessionFencer", Props.empty());
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
