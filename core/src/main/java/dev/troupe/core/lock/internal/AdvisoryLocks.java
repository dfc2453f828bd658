package dev.troupe.core.lock.internal;

import dev.troupe.core.lock.LockSettings;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.internal.NodeSessions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. Locks as PostgreSQL session-level advisory locks, one dedicated connection per held
 * lock.
 */
public final class AdvisoryLocks extends JdbcLocks {
  /*
   * Design notes (measured behaviour in shared/FAULTS.md).
   *
   * - Session locks on dedicated connections opened with the driver, never from the pool (a pool
   *   or a transaction-pooling proxy could hand the session to someone else): if the process dies,
   *   the session ends and the server frees the lock at once.
   * - Key: the first 8 bytes of SHA-256 of "troupe-lock:" + namespace:id, computed in Java; the
   *   pair (key, name) is stored in troupe_lock_key with both unique, so two names hashing to one
   *   key fail loudly instead of sharing a lock.
   * - One statement takes the lock and raises the fencing token under it:
   *     WITH l AS (SELECT pg_try_advisory_lock(?) AS ok)
   *     INSERT INTO troupe_lock_epoch ... SELECT ... FROM l WHERE l.ok
   *     ON CONFLICT (name) DO UPDATE SET epoch = troupe_lock_epoch.epoch + 1 RETURNING epoch
   *   A row back means the lock is ours and the epoch committed (synchronously: a token is never
   *   handed out twice, also across a server crash).
   * - Every lock connection has application_name "troupe-lock <owner>" (terminateSessions finds a
   *   removed node's sessions by it), server-side TCP keepalive and tcp_user_timeout from
   *   troupe.lock.server-keepalive, and a client socket timeout of heartbeat-timeout: a heartbeat
   *   that cannot complete within it breaks the connection, and the holder self-fences before the
   *   server, which needs the keepalive time, frees the lock.
   * - Release: pg_advisory_unlock, whose result is checked; then the connection goes back to a
   *   small idle set for the next tryAcquire (or is closed).
   * - A server restart frees every lock at once, while their holders go on believing they hold
   *   them until their next heartbeat fails: at most selfFenceAfter (heartbeat-interval +
   *   heartbeat-timeout) after their last good one, which began before the restart. So the
   *   statement that takes a lock also returns how long ago the server started; when that is less
   *   than selfFenceAfter (plus a margin), the new holder keeps the lock but waits out the rest,
   *   heartbeats, and only then is acquire() complete: two holders never believe at once (the
   *   chaos harness's pg-restart scenario judges it).
   * - The same holds when a session fencer (NodeSessions, for a member removed from the cluster
   *   that may still be alive behind a partition) ends the holder's session: the row of the lock
   *   names the owner of its last holding, the fencer stamps fenced_at on that owner's rows before
   *   it ends the sessions, and a lock taken less than selfFenceAfter after the stamp waits the
   *   rest out the same way (the chaos harness's partition-oldest found 101 ms of two believers).
   */
  private static final Logger log = LoggerFactory.getLogger(AdvisoryLocks.class);

  private static final String TRY_LOCK =
      "WITH l AS (SELECT pg_try_advisory_lock(?) AS ok) "
          + "INSERT INTO troupe_lock_epoch (name, epoch, owner) SELECT ?, 1, ? FROM l WHERE l.ok "
          + "ON CONFLICT (name) DO UPDATE SET epoch = troupe_lock_epoch.epoch + 1,"
          + " owner = EXCLUDED.owner "
          + "RETURNING epoch, "
          + "CAST(EXTRACT(EPOCH FROM (clock_timestamp() - pg_postmaster_start_time())) * 1000"
          + " AS BIGINT), "
          + "CAST(EXTRACT(EPOCH FROM (LOCALTIMESTAMP - fenced_at)) * 1000 AS BIGINT)";

  /** Added to selfFenceAfter after a server restart: scheduling and clock-rate slack. */
  private static final long RESTART_MARGIN_MILLIS = 250;

  private final Properties connectionProperties;
  private final Deque<Connection> idle = new ArrayDeque<>(); // guarded by itself
  private final Map<String, Long> keys = new ConcurrentHashMap<>(); // verified name -> key

  public AdvisoryLocks(Storage storage, LockSettings settings, String owner) {
    super(storage, settings, owner, "pg-lock");
    Properties props = new Properties();
    props.setProperty("ApplicationName", applicationName(owner));
    props.setProperty("tcpKeepAlive", "true");
    props.setProperty("connectTimeout", seconds(settings.heartbeatTimeout().toMillis() * 2));
    props.setProperty("socketTimeout", seconds(settings.heartbeatTimeout().toMillis()));
    this.connectionProperties = props;
  }

  /** The application_name of the lock connections of {@code owner}: at most 63 characters. */
  public static String applicationName(String owner) {
    return NodeSessions.lockName(owner);
  }

  private static String seconds(long millis) {
    return Long.toString(Math.max(1, (millis + 999) / 1000));
  }

  @Override
  protected Optional<JdbcLock> attempt(String id, String qualified) throws SQLException {
    long key = keyOf(qualified);
    Connection connection = takeConnection();
    boolean keep = false;
    try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK)) {
      statement.setLong(1, key);
      statement.setString(2, qualified);
      statement.setString(3, owner);
      long start = System.nanoTime();
      try (ResultSet rs = statement.executeQuery()) {
        if (!rs.next()) {
          keep = true;
          giveBack(connection);
          return Optional.empty();
        }
        AdvisoryLock lock = new AdvisoryLock(id, rs.getLong(1), key, connection);
        long window = settings.selfFenceAfter().toMillis() + RESTART_MARGIN_MILLIS;
        long sinceRestart = rs.getLong(2);
        long sinceFence = rs.getLong(3);
        if (rs.wasNull()) {
          sinceFence = Long.MAX_VALUE; // never fenced
        }
        long wait = window - Math.min(sinceRestart, sinceFence);
        if (wait > 0) {
          start = afterRestart(lock, wait);
        }
        keep = true;
        lock.confirmed(start);
        return Optional.of(lock);
      }
    } finally {
      if (!keep) {
        closeQuietly(connection); // the session ends: a lock it may hold is freed
      }
    }
  }

  /**
   * Holds {@code lock}, taken less than selfFenceAfter after the server started, until a holder
   * whose session the restart ended can no longer believe it holds it ({@code waitMillis}), then
   * confirms it; returns when the confirmation began.
   */
  private long afterRestart(AdvisoryLock lock, long waitMillis) throws SQLException {
    log.info(
        "Lock [{}] taken {} ms before a former holder (database restart, session fence) must"
            + " have stopped believing it holds it: waiting",
        lock.id(),
        waitMillis);
    try {
      Thread.sleep(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting after a database restart", e);
    }
    long start = System.nanoTime();
    lock.heartbeat();
    return start;
  }

  /** The key of {@code qualified}, its mapping stored and checked for collisions once. */
  private long keyOf(String qualified) throws SQLException {
    Long known = keys.get(qualified);
    if (known != null) {
      return known;
    }
    long key = LockKeys.keyOf(qualified);
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO troupe_lock_key (lock_key, name) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
        insert.setLong(1, key);
        insert.setString(2, qualified);
        insert.executeUpdate();
      }
      try (PreparedStatement select =
          c.prepareStatement("SELECT name FROM troupe_lock_key WHERE lock_key = ?")) {
        select.setLong(1, key);
        try (ResultSet rs = select.executeQuery()) {
          String holder = rs.next() ? rs.getString(1) : null;
          if (!qualified.equals(holder)) {
            throw new IllegalStateException(
                "Lock name ["
                    + qualified
                    + "] hashes to advisory-lock key "
                    + key
                    + ", which already belongs to ["
                    + holder
                    + "] (or to a name whose row troupe_lock_key could not show): choose another"
                    + " lock id or troupe.lock.namespace");
          }
        }
      }
    }
    keys.put(qualified, key);
    return key;
  }

  private Connection takeConnection() throws SQLException {
    synchronized (idle) {
      Connection c = idle.poll();
      if (c != null) {
        return c;
      }
    }
    Connection c = storage.openDedicatedConnection(connectionProperties);
    try (Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      s.execute("SET tcp_keepalives_idle = " + settings.keepaliveIdle().toSeconds());
      s.execute("SET tcp_keepalives_interval = " + settings.keepaliveInterval().toSeconds());
      s.execute("SET tcp_keepalives_count = " + settings.keepaliveCount());
      s.execute("SET tcp_user_timeout = " + settings.serverRelease().toMillis());
    } catch (SQLException e) {
      closeQuietly(c);
      throw e;
    }
    return c;
  }

  private void giveBack(Connection connection) {
    synchronized (idle) {
      if (!isClosed() && idle.size() < settings.idleConnections()) {
        idle.push(connection);
        return;
      }
    }
    closeQuietly(connection);
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      log.debug("Closing a lock connection failed: {}", e.toString());
    }
  }

  @Override
  protected void closeResources() {
    synchronized (idle) {
      idle.forEach(AdvisoryLocks::closeQuietly);
      idle.clear();
    }
  }

  /**
   * Terminates every session of {@code owner} (its lock connections and its storage pool's);
   * returns how many. Used to fence a node that was removed from the cluster but may only be
   * paused.
   */
  public int terminateSessions(String owner) {
    int count = NodeSessions.terminate(storage, owner);
    if (count > 0) {
      log.info("Terminated {} session(s) of [{}]", count, owner);
    }
    return count;
  }

  /** A held advisory lock and its session. */
  private final class AdvisoryLock extends JdbcLock {
    private final long key;
    private final Connection connection; // used under its own monitor

    AdvisoryLock(String id, long token, long key, Connection connection) {
      super(id, token, settings.selfFenceAfter());
      this.key = key;
      this.connection = connection;
    }

    @Override
    protected void heartbeat() throws SQLException {
      synchronized (connection) {
        try (Statement s = connection.createStatement()) {
          s.setQueryTimeout((int) Math.max(1, settings.heartbeatTimeout().toSeconds()));
          s.execute("SELECT 1");
        }
      }
    }

    @Override
    protected void abandon() {
      try {
        connection.abort(io.blocking()); // no round trip: the session ends, the lock is freed
      } catch (SQLException | RuntimeException e) {
        closeQuietly(connection);
      }
    }

    /**
     * Runs in the caller's thread: one round trip (a dead database fails it within the socket
     * timeout).
     */
    @Override
    protected CompletionStage<Done> doRelease() {
      untrack(this);
      synchronized (connection) {
        try (PreparedStatement s = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
          s.setLong(1, key);
          try (ResultSet rs = s.executeQuery()) {
            if (rs.next() && rs.getBoolean(1)) {
              giveBack(connection);
            } else {
              log.warn(
                  "pg_advisory_unlock of lock [{}] returned false: the session no longer held it;"
                      + " closing the session",
                  id());
              closeQuietly(connection);
            }
          }
        } catch (SQLException e) {
          // The session is broken: closing it frees whatever it held.
          closeQuietly(connection);
        }
      }
      return CompletableFuture.completedFuture(Done.getInstance());
    }
  }
}
