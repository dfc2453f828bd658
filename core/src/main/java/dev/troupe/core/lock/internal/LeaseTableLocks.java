package dev.troupe.core.lock.internal;

import dev.troupe.core.lock.LockSettings;
import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. Locks as rows of a lease table, for any JDBC database (H2 by default): holder,
 * expiry (database time) and token.
 */
public final class LeaseTableLocks extends JdbcLocks {
  /*
   * Design notes.
   *
   * - A lock is the row troupe_lock_lease(name): free when holder is null or expires_at has passed
   *   by the database's clock (never a node's clock, so nodes with skewed clocks agree).
   * - Taking it is one transaction: a conditional UPDATE (free or expired), or an INSERT of a new
   *   row (a duplicate key means someone else got there first), then the fencing token
   *   troupe_lock_epoch(name) raised by one and copied into the row. Each holding has its own
   *   holder string (owner + random id), so a takeover is visible to the previous holder.
   * - The holder renews the expiry every heartbeat-interval (UPDATE ... WHERE holder = mine). A
   *   renewal that fails or finds the row taken over loses the lock, and the holder stops trusting
   *   it heartbeat-timeout before it could expire (lease-duration minus heartbeat-timeout after the
   *   last renewal began), so it never believes it holds a lease another node could already take.
   * - A holder that dies simply stops renewing: another node takes the lock once it expires.
   */
  private static final Logger log = LoggerFactory.getLogger(LeaseTableLocks.class);

  private final String expiry; // SQL for "database now + lease-duration"

  public LeaseTableLocks(Storage storage, LockSettings settings, String owner) {
    super(storage, settings, owner, "lease-lock");
    long millis = settings.leaseDuration().toMillis();
    this.expiry =
        storage.dialect() == Dialect.H2
            ? "DATEADD(MILLISECOND, " + millis + ", LOCALTIMESTAMP)"
            : storage.dialect() == Dialect.POSTGRESQL
                ? "LOCALTIMESTAMP + INTERVAL '" + millis + " milliseconds'"
                : "{fn TIMESTAMPADD(SQL_TSI_SECOND, "
                    + Math.max(1, millis / 1000)
                    + ", LOCALTIMESTAMP)}";
  }

  @Override
  protected Optional<JdbcLock> attempt(String id, String qualified) throws SQLException {
    String holder = owner + "#" + UUID.randomUUID();
    long start = System.nanoTime();
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!take(c, qualified, holder)) {
          c.rollback();
          return Optional.empty();
        }
        long token = raiseToken(c, qualified);
        try (PreparedStatement s =
            c.prepareStatement("UPDATE troupe_lock_lease SET token = ? WHERE name = ?")) {
          s.setLong(1, token);
          s.setString(2, qualified);
          s.executeUpdate();
        }
        c.commit();
        LeaseLock lock = new LeaseLock(id, token, qualified, holder);
        lock.confirmed(start);
        return Optional.of(lock);
      } catch (SQLException e) {
        c.rollback();
        if (isContention(e)) {
          return Optional.empty(); // another node is taking the same row right now
        }
        throw e;
      } catch (RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /** A lock wait, serialization failure or concurrent update: the row is being taken. */
  private static boolean isContention(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    return state.startsWith("40") || state.equals("HYT00") || e.getErrorCode() == 90131;
  }

  private boolean take(Connection c, String qualified, String holder) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement(
            "UPDATE troupe_lock_lease SET holder = ?, expires_at = "
                + expiry
                + " WHERE name = ? AND (holder IS NULL OR expires_at < LOCALTIMESTAMP)")) {
      update.setString(1, holder);
      update.setString(2, qualified);
      if (update.executeUpdate() == 1) {
        return true;
      }
    }
    if (exists(c, qualified)) {
      return false;
    }
    try (PreparedStatement insert =
        c.prepareStatement(
            "INSERT INTO troupe_lock_lease (name, holder, token, expires_at) VALUES (?, ?, 0, "
                + expiry
                + ")")) {
      insert.setString(1, qualified);
      insert.setString(2, holder);
      insert.executeUpdate();
      return true;
    } catch (SQLException e) {
      if (StorageException.isConstraintViolation(e)) {
        return false; // another node inserted the row first: it holds the lock
      }
      throw e;
    }
  }

  private static boolean exists(Connection c, String qualified) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT 1 FROM troupe_lock_lease WHERE name = ?")) {
      s.setString(1, qualified);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Raises and returns the fencing token of {@code qualified}, in the caller's transaction. */
  public static long raiseToken(Connection c, String qualified) throws SQLException {
    try (PreparedStatement update =
        c.prepareStatement("UPDATE troupe_lock_epoch SET epoch = epoch + 1 WHERE name = ?")) {
      update.setString(1, qualified);
      if (update.executeUpdate() == 0) {
        try (PreparedStatement insert =
            c.prepareStatement("INSERT INTO troupe_lock_epoch (name, epoch) VALUES (?, 1)")) {
          insert.setString(1, qualified);
          insert.executeUpdate();
        }
      }
    }
    try (PreparedStatement select =
        c.prepareStatement("SELECT epoch FROM troupe_lock_epoch WHERE name = ?")) {
      select.setString(1, qualified);
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Override
  protected void closeResources() {}

  /** A held lease. */
  private final class LeaseLock extends JdbcLock {
    private final String qualified;
    private final String holder;

    LeaseLock(String id, long token, String qualified, String holder) {
      // Trusted until heartbeat-timeout before the lease could expire.
      super(id, token, settings.leaseDuration().minus(settings.heartbeatTimeout()));
      this.qualified = qualified;
      this.holder = holder;
    }

    @Override
    protected void heartbeat() throws SQLException {
      try (Connection c = storage.dataSource().getConnection();
          PreparedStatement s =
              c.prepareStatement(
                  "UPDATE troupe_lock_lease SET expires_at = "
                      + expiry
                      + " WHERE name = ? AND holder = ?")) {
        c.setAutoCommit(true);
        s.setQueryTimeout((int) Math.max(1, settings.heartbeatTimeout().toSeconds()));
        s.setString(1, qualified);
        s.setString(2, holder);
        if (s.executeUpdate() != 1) {
          throw new SQLException("the lease was taken over by another holder");
        }
      }
    }

    @Override
    protected void abandon() {
      // Nothing to drop: an unrenewed lease expires by itself.
    }

    @Override
    protected CompletionStage<Done> doRelease() {
      untrack(this);
      return CompletableFuture.supplyAsync(
          () -> {
            try (Connection c = storage.dataSource().getConnection();
                PreparedStatement s =
                    c.prepareStatement(
                        "UPDATE troupe_lock_lease SET holder = NULL, expires_at = NULL"
                            + " WHERE name = ? AND holder = ?")) {
              c.setAutoCommit(true);
              s.setString(1, qualified);
              s.setString(2, holder);
              if (s.executeUpdate() != 1) {
                log.warn("Lease of lock [{}] was already taken over when released", id());
              }
            } catch (SQLException e) {
              log.warn("Releasing the lease of lock [{}] failed; it expires by itself", id(), e);
            }
            return Done.getInstance();
          },
          io.blocking());
    }
  }
}
