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

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T run(String what, Work<T> work) {
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw new StorageException(
          "Cannot " + what + " on [" + storage.displayUrl() + "]: " + e.getMessage(), e);
    }
  }
}
