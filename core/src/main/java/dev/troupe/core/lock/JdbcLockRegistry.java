package dev.troupe.core.lock;

import static dev.troupe.core.Preconditions.requireNonBlank;
import static dev.troupe.core.Preconditions.requireNonNull;

import dev.troupe.core.lock.internal.AdvisoryLocks;
import dev.troupe.core.lock.internal.JdbcLocks;
import dev.troupe.core.lock.internal.LeaseTableLocks;
import dev.troupe.core.lock.internal.LockExtension;
import dev.troupe.core.lock.internal.LockMeters;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A {@link LockRegistry} in a database, through {@link Storage}: PostgreSQL advisory locks when the
 * storage is PostgreSQL, a lease table on any other JDBC database (H2 by default).
 *
 * <pre>{@code
 * LockRegistry locks = JdbcLockRegistry.get(system);          // the node's registry
 * try (Lock lock = locks.acquire("projection-orders", Duration.ofSeconds(30))
 *     .toCompletableFuture().join()) {
 *   lock.onLost(projection::stop);
 *   try (Connection c = storage.dataSource().getConnection()) {
 *     c.setAutoCommit(false);
 *     JdbcLockRegistry.requireCurrentToken(c, "troupe", "projection-orders", lock.fencingToken());
 *     ... the protected write ...
 *     c.commit();                                           // or a StaleTokenException
 *   }
 * }
 * }</pre>
 *
 * <p><b>PostgreSQL</b>: a session-level {@code pg_try_advisory_lock} on a dedicated connection per
 * held lock (freed by the server as soon as the holder's process dies; never use a
 * transaction-pooling proxy such as PgBouncer in transaction mode), with a heartbeat on that
 * connection every {@code troupe.lock.heartbeat-interval}. A heartbeat that fails or takes longer
 * than {@code troupe.lock.heartbeat-timeout}, or a holder paused for longer than both, loses the
 * lock (onLost, {@code isHeld() == false}) before the server could free it and give it to another
 * holder: the server side of the connection keeps a shorter TCP keepalive ({@code
 * troupe.lock.server-keepalive}) than Pekko's defaults but longer than the heartbeat bound. A
 * paused holder keeps its session, so a node that is removed from the cluster has all its sessions
 * terminated by the others (the node's {@link Storage#get(ActorSystem)} does this).
 *
 * <p><b>Other databases</b>: a row per lock in {@code troupe_lock_lease} with holder and expiry
 * (database time), renewed every heartbeat-interval; a holder stops trusting it heartbeat-timeout
 * before it could expire, and another node can take an expired lease over.
 *
 * <p>In both, the fencing token is {@code troupe_lock_epoch.epoch}, raised by one in the same
 * transaction that takes the lock.
 *
 * @since 0.1.0
 */
public final class JdbcLockRegistry implements LockRegistry {
  private final JdbcLocks locks;
  private final Storage storage;
  private final LockSettings settings;

  private JdbcLockRegistry(Storage storage, LockSettings settings, String owner) {
    this.storage = storage;
    this.settings = settings;
    this.locks =
        storage.isPostgres()
            ? new AdvisoryLocks(storage, settings, owner)
            : new LeaseTableLocks(storage, settings, owner);
  }

  /**
   * A new registry on {@code storage} with the settings of {@code troupe.lock} in {@code
   * reference.conf}, owned by this process ({@code <pid>@<host>}). The caller closes it.
   *
   * @throws IllegalArgumentException if {@code storage} is null
   */
  public static JdbcLockRegistry create(Storage storage) {
    return create(storage, ManagementFactory.getRuntimeMXBean().getName());
  }

  /**
   * A new registry on {@code storage} whose lock sessions and leases carry {@code owner} (shown in
   * {@code pg_stat_activity.application_name} and in the lease table). The caller closes it.
   *
   * @throws IllegalArgumentException if an argument is null or {@code owner} blank
   */
  public static JdbcLockRegistry create(Storage storage, String owner) {
    return create(storage, owner, LockSettings.defaults());
  }

  /**
   * A new registry with {@code settings}; for {@code troupe.lock} settings other than those of
   * {@code reference.conf}, read with {@link LockSettings#fromConfig(com.typesafe.config.Config)}.
   *
   * @throws IllegalArgumentException if an argument is null or {@code owner} blank
   */
  public static JdbcLockRegistry create(Storage storage, String owner, LockSettings settings) {
    requireNonNull(storage, "storage");
    requireNonBlank(owner, "owner");
    requireNonNull(settings, "settings");
    return new JdbcLockRegistry(storage, settings, owner);
  }

  /**
   * The node's registry: on the node's shared {@link Storage#get(ActorSystem)}, with {@code
   * troupe.lock} from the node's configuration, owned by the node ({@link #ownerOf}), closed when
   * the node terminates. On PostgreSQL the node's storage also fences: when a member is removed
   * from the cluster, this node terminates all that member's sessions, so a paused member cannot
   * keep a lock.
   *
   * @throws IllegalArgumentException if {@code system} is null
   */
  public static JdbcLockRegistry get(ActorSystem<?> system) {
    requireNonNull(system, "system");
    return LockExtension.get(system).registry();
  }

  /**
   * The owner string of a cluster member: {@code host:port/uid}, unique per incarnation, short
   * enough for PostgreSQL's application_name.
   */
  public static String ownerOf(org.apache.pekko.cluster.UniqueAddress member) {
    requireNonNull(member, "member");
    return member.address().host().getOrElse(() -> "local")
        + ":"
        + member.address().port().getOrElse(() -> 0)
        + "/"
        + member.longUid();
  }

  @Override
  public CompletionStage<Lock> acquire(String id) {
    return locks.acquire(id);
  }

  @Override
  public CompletionStage<Lock> acquire(String id, Duration timeout) {
    return locks.acquire(id, timeout);
  }

  @Override
  public Optional<Lock> tryAcquire(String id) {
    return locks.tryAcquire(id);
  }

  /** The owner written into the database by this registry. */
  public String owner() {
    return locks.owner();
  }

  /** The namespace of this registry's lock names ({@code troupe.lock.namespace}). */
  public String namespace() {
    return settings.namespace();
  }

  /** Whether this registry uses PostgreSQL advisory locks (otherwise the lease table). */
  public boolean isAdvisory() {
    return locks instanceof AdvisoryLocks;
  }

  /**
   * PostgreSQL: terminates every session of {@code owner} (for a node: {@link #ownerOf}) — its lock
   * connections and its node storage's pool — so that a paused or cut-off holder loses its locks
   * and the row locks of any open transaction now; returns how many sessions. Other databases: does
   * nothing and returns 0 (leases expire by themselves).
   *
   * @throws IllegalArgumentException if {@code owner} is null or blank
   */
  public int terminateSessions(String owner) {
    requireNonBlank(owner, "owner");
    return locks instanceof AdvisoryLocks advisory ? advisory.terminateSessions(owner) : 0;
  }

  /**
   * Checks, inside the caller's transaction on {@code connection}, that {@code token} is still the
   * current fencing token of lock {@code id} in this registry's namespace, and locks the token row
   * until the transaction ends, so no new holder can take the lock before the caller's writes
   * commit. Call it first in every transaction the lock protects.
   *
   * @throws StaleTokenException if a later holder has taken the lock since {@code token} was issued
   * @throws SQLException if the check cannot run
   */
  public void requireCurrentToken(Connection connection, String id, long token)
      throws SQLException {
    requireCurrentToken(connection, settings.namespace(), id, token);
  }

  /**
   * Like {@link #requireCurrentToken(Connection, String, long)} for a registry of namespace {@code
   * namespace}, without the registry at hand.
   */
  public static void requireCurrentToken(
      Connection connection, String namespace, String id, long token) throws SQLException {
    requireNonNull(connection, "connection");
    requireNonBlank(namespace, "namespace");
    requireNonBlank(id, "lock id");
    String qualified = namespace + ":" + id;
    boolean postgres =
        connection.getMetaData().getDatabaseProductName().toLowerCase().startsWith("postgresql");
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT epoch FROM troupe_lock_epoch WHERE name = ?"
                + (postgres ? " FOR SHARE" : " FOR UPDATE"))) {
      s.setString(1, qualified);
      try (ResultSet rs = s.executeQuery()) {
        long current = rs.next() ? rs.getLong(1) : 0;
        if (current != token) {
          throw new StaleTokenException(id, token, current);
        }
      }
    }
  }

  /**
   * Raises and returns the fencing token of {@code id} in {@code namespace} without taking a lock:
   * for owners that a coordinator assigns rather than a lock, such as a daemon that the daemon
   * leader places. The next token, like a lock's, is larger than every one handed out before, and
   * {@link #requireCurrentToken(Connection, String, String, long)} checks it the same way.
   *
   * @throws IllegalArgumentException if an argument is null or blank
   * @throws dev.troupe.core.storage.StorageException if the database refuses
   */
  public static long nextToken(Storage storage, String namespace, String id) {
    requireNonNull(storage, "storage");
    requireNonBlank(namespace, "namespace");
    requireNonBlank(id, "id");
    String qualified = namespace + ":" + id;
    for (int attempt = 1; ; attempt++) {
      try (Connection c = storage.dataSource().getConnection()) {
        c.setAutoCommit(false);
        try {
          long token = LeaseTableLocks.raiseToken(c, qualified);
          c.commit();
          LockMeters.of(storage.meterRegistry()).tokenRaised();
          return token;
        } catch (SQLException e) {
          c.rollback();
          // Two first raises of a new name race on the INSERT: the loser raises the winner's row.
          if (attempt < 3 && StorageException.isConstraintViolation(e)) {
            continue;
          }
          throw e;
        } finally {
          c.setAutoCommit(true);
        }
      } catch (SQLException e) {
        throw new dev.troupe.core.storage.StorageException(
            "Cannot raise the token of ["
                + qualified
                + "] on ["
                + storage.displayUrl()
                + "]: "
                + e.getMessage(),
            e);
      }
    }
  }

  /** Releases every lock of this registry and refuses new acquisitions; idempotent. */
  @Override
  public void close() {
    locks.close();
  }

  @Override
  public String toString() {
    return "JdbcLockRegistry("
        + (isAdvisory() ? "advisory" : "lease table")
        + ", "
        + storage.displayUrl()
        + ", owner "
        + owner()
        + ")";
  }
}
