package dev.troupe.daemons.internal;

import dev.troupe.core.lock.JdbcLockRegistry;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * INTERNAL API. What the daemon leader keeps in the database: the epoch of every daemon (the lock
 * layer's fencing tokens, name {@code daemon:<name>} in the lock namespace) and the daemons started
 * with spawnRegister (rows of the node's namespace). Blocking: the leader calls it on the blocking
 * dispatcher.
 */
public final class DaemonStore {
  /** A daemon started with spawnRegister. */
  public record Spawned(String name, String launcher, List<Object> args) {}

  /**
   * What {@link #claimLease} found: {@code claimed}, or the current holder, its epoch and how long
   * its lease still runs by the database's clock.
   */
  public record LeaseClaim(boolean claimed, String holder, long holderEpoch, long remainingMillis) {
    static final LeaseClaim CLAIMED = new LeaseClaim(true, null, 0, 0);
  }

  /**
   * A lease held by a node that may be gone: the daemon, its holder and epoch, the launcher and
   * arguments of the instance, and how long the lease still runs by the database's clock.
   */
  public record HeldLease(
      String name,
      String owner,
      long epoch,
      String launcher,
      List<Object> args,
      long remainingMillis) {}

  private final Storage storage;
  private final String namespace;
  private final String lockNamespace;

  /**
   * A store of the daemons of {@code namespace} ({@code troupe.namespace}) whose epochs are fencing
   * tokens of {@code lockNamespace} ({@code troupe.lock.namespace}).
   */
  public DaemonStore(Storage storage, String namespace, String lockNamespace) {
    this.storage = storage;
    this.namespace = namespace;
    this.lockNamespace = lockNamespace;
    storage.ensureSchema(new DaemonSchema());
  }

  /** The lock namespace the epochs are kept in. */
  public String lockNamespace() {
    return lockNamespace;
  }

  /** The next epoch of daemon {@code name}. */
  public long nextEpoch(String name) {
    return JdbcLockRegistry.nextToken(storage, lockNamespace, "daemon:" + name);
  }

  /** The current epoch of every daemon that has one, by daemon name. */
  public java.util.Map<String, Long> epochs() {
    String prefix = lockNamespace + ":daemon:";
    return run(
        "read daemon epochs",
        c -> {
          java.util.Map<String, Long> epochs = new java.util.HashMap<>();
          try (PreparedStatement select =
              c.prepareStatement("SELECT name, epoch FROM troupe_lock_epoch WHERE name LIKE ?")) {
            select.setString(1, prefix.replace("%", "\\%").replace("_", "\\_") + "%");
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                String name = rs.getString(1);
                if (name.startsWith(prefix)) {
                  epochs.put(name.substring(prefix.length()), rs.getLong(2));
                }
              }
            }
          }
          return epochs;
        });
  }

  /** Records a spawned daemon (replacing an earlier record of the name). */
  public void saveSpawned(Spawned daemon) {
    run(
        "save daemon [" + daemon.name() + "]",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM troupe_daemon WHERE namespace = ? AND name = ?")) {
            delete.setString(1, namespace);
            delete.setString(2, daemon.name());
            delete.executeUpdate();
          }
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO troupe_daemon (namespace, name, launcher, args, created_at)"
                      + " VALUES (?, ?, ?, ?, LOCALTIMESTAMP)")) {
            insert.setString(1, namespace);
            insert.setString(2, daemon.name());
            insert.setString(3, daemon.launcher());
            insert.setString(4, DaemonArgs.toJson(daemon.args()));
            insert.executeUpdate();
          }
          return null;
        });
  }

  /** Forgets a spawned daemon. */
  public void deleteSpawned(String name) {
    run(
        "delete daemon [" + name + "]",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement("DELETE FROM troupe_daemon WHERE namespace = ? AND name = ?")) {
            delete.setString(1, namespace);
            delete.setString(2, name);
            delete.executeUpdate();
          }
          return null;
        });
  }

  /** Every spawned daemon. */
  public List<Spawned> spawned() {
    return run(
        "list daemons",
        c -> {
          List<Spawned> result = new ArrayList<>();
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT name, launcher, args FROM troupe_daemon WHERE namespace = ?"
                      + " ORDER BY name")) {
            select.setString(1, namespace);
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                result.add(
                    new Spawned(
                        rs.getString(1), rs.getString(2), DaemonArgs.fromJson(rs.getString(3))));
              }
            }
          }
          return result;
        });
  }

  /*
   * Daemon leases: one row per daemon, troupe_daemon_lease(namespace, name, owner, epoch,
   * expires_at), expiry in the database's clock. The namespace column holds the lock namespace,
   * the one of the epochs (fencing tokens) the rows carry: a lease and its epochs must agree. A node may run an instance of a daemon only while
   * it holds the daemon's row with the instance's epoch and the row has not expired. A claim takes a
   * free row (no owner, expired, or already ours) and never lowers the epoch; a renewal extends all
   * of one owner's unexpired rows in one statement (the cost per node and interval does not grow
   * with anything but the node's own daemons); a release frees a row at once so that a successor
   * need not wait for the expiry (a graceful move).
   */

  /**
   * Claims the lease of daemon {@code name} for {@code owner} and instance {@code epoch}, for
   * {@code leaseMillis} from now by the database's clock.
   */
  public LeaseClaim claimLease(String name, String owner, long epoch, long leaseMillis) {
    return claimLease(name, owner, epoch, leaseMillis, null, List.of());
  }

  /**
   * Claims the lease of daemon {@code name} as {@link #claimLease(String, String, long, long)} and
   * records the instance's {@code launcher} and {@code args} with it, so that another node can take
   * the daemon over from the lease table ({@link #leasesHeldBy}).
   */
  public LeaseClaim claimLease(
      String name, String owner, long epoch, long leaseMillis, String launcher, List<Object> args) {
    String argsJson = launcher == null ? null : DaemonArgs.toJson(args);
    return run(
        "claim the lease of daemon [" + name + "]",
        c -> {
          try (PreparedStatement take =
              c.prepareStatement(
                  "UPDATE troupe_daemon_lease SET owner = ?, epoch = ?, launcher = ?, args = ?,"
                      + " expires_at = "
                      + expiry()
                      + " WHERE namespace = ? AND name = ? AND epoch <= ?"
                      + " AND (owner IS NULL OR owner = ? OR expires_at < LOCALTIMESTAMP)")) {
            take.setString(1, owner);
            take.setLong(2, epoch);
            take.setString(3, launcher);
            take.setString(4, argsJson);
            take.setLong(5, leaseMillis);
            take.setString(6, lockNamespace);
            take.setString(7, name);
            take.setLong(8, epoch);
            take.setString(9, owner);
            if (take.executeUpdate() == 1) {
              return LeaseClaim.CLAIMED;
            }
          }
          LeaseClaim current = currentLease(c, name);
          if (current != null) {
            return current;
          }
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO troupe_daemon_lease"
                      + " (namespace, name, owner, epoch, launcher, args, expires_at)"
                      + " VALUES (?, ?, ?, ?, ?, ?, "
                      + expiry()
                      + ")")) {
            insert.setString(1, lockNamespace);
            insert.setString(2, name);
            insert.setString(3, owner);
            insert.setLong(4, epoch);
            insert.setString(5, launcher);
            insert.setString(6, argsJson);
            insert.setLong(7, leaseMillis);
            insert.executeUpdate();
            return LeaseClaim.CLAIMED;
          } catch (SQLException e) {
            if (StorageException.isConstraintViolation(e)) {
              // Another node inserted the row first: it holds the lease; ask again later.
              return new LeaseClaim(false, null, 0, 0);
            }
            throw e;
          }
        });
  }

  /**
   * Extends every unexpired lease of {@code owner} by {@code leaseMillis} from now (database clock)
   * and returns the daemons whose lease it holds now, by name with the epoch.
   */
  public java.util.Map<String, Long> renewLeases(String owner, long leaseMillis) {
    return run(
        "renew the daemon leases of [" + owner + "]",
        c -> {
          try (PreparedStatement renew =
              c.prepareStatement(
                  "UPDATE troupe_daemon_lease SET expires_at = "
                      + expiry()
                      + " WHERE namespace = ? AND owner = ? AND expires_at >= LOCALTIMESTAMP")) {
            renew.setLong(1, leaseMillis);
            renew.setString(2, lockNamespace);
            renew.setString(3, owner);
            renew.executeUpdate();
          }
          java.util.Map<String, Long> held = new java.util.HashMap<>();
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT name, epoch FROM troupe_daemon_lease"
                      + " WHERE namespace = ? AND owner = ? AND expires_at >= LOCALTIMESTAMP")) {
            select.setString(1, lockNamespace);
            select.setString(2, owner);
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                held.put(rs.getString(1), rs.getLong(2));
              }
            }
          }
          return held;
        });
  }

  /** Frees the lease of daemon {@code name} if {@code owner} holds it for {@code epoch}. */
  public boolean releaseLease(String name, String owner, long epoch) {
    return run(
        "release the lease of daemon [" + name + "]",
        c -> {
          try (PreparedStatement release =
              c.prepareStatement(
                  "UPDATE troupe_daemon_lease SET owner = NULL, expires_at = NULL"
                      + " WHERE namespace = ? AND name = ? AND owner = ? AND epoch = ?")) {
            release.setString(1, lockNamespace);
            release.setString(2, name);
            release.setString(3, owner);
            release.setLong(4, epoch);
            return release.executeUpdate() == 1;
          }
        });
  }

  /**
   * The leases that {@code owners} hold (expired or not, not released) whose instance names its
   * launcher: what a node takes over when the leader's node is unreachable. One indexed query; the
   * cost grows with the leases of those owners, not with the table.
   */
  public List<HeldLease> leasesHeldBy(java.util.Collection<String> owners) {
    if (owners.isEmpty()) {
      return List.of();
    }
    String marks = String.join(", ", java.util.Collections.nCopies(owners.size(), "?"));
    return run(
        "list the daemon leases of " + owners,
        c -> {
          List<HeldLease> held = new ArrayList<>();
          try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT name, owner, epoch, launcher, args, "
                      + remainingMillis()
                      + " FROM troupe_daemon_lease WHERE namespace = ? AND owner IN ("
                      + marks
                      + ") AND launcher IS NOT NULL ORDER BY name")) {
            int i = 1;
            select.setString(i++, lockNamespace);
            for (String owner : owners) {
              select.setString(i++, owner);
            }
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                held.add(
                    new HeldLease(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getLong(3),
                        rs.getString(4),
                        DaemonArgs.fromJson(rs.getString(5)),
                        Math.max(0, rs.getLong(6))));
              }
            }
          }
          return held;
        });
  }

  /** The lease row of {@code name} as a refused claim, or null if there is none. */
  private LeaseClaim currentLease(Connection c, String name) throws SQLException {
    try (PreparedStatement select =
        c.prepareStatement(
            "SELECT owner, epoch, "
                + remainingMillis()
                + " FROM troupe_daemon_lease WHERE namespace = ? AND name = ?")) {
      select.setString(1, lockNamespace);
      select.setString(2, name);
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new LeaseClaim(false, rs.getString(1), rs.getLong(2), Math.max(0, rs.getLong(3)));
      }
    }
  }

  /** SQL for "how many milliseconds until expires_at" by the database's clock. */
  private String remainingMillis() {
    return storage.dialect().millisUntil("expires_at");
  }

  /** SQL for "the database's now plus ? milliseconds". */
  private String expiry() {
    return storage.dialect().nowPlusMillis();
  }

  private <T> T run(String what, Storage.SqlWork<T> work) {
    return storage.inTransaction(what, work);
  }
}
