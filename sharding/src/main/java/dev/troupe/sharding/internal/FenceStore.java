package dev.troupe.sharding.internal;

import dev.troupe.core.storage.Dialect;
import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * INTERNAL API. The tables of the fleets' single-writer fence ({@link FleetSchema} version 3):
 * fence leases of node generations and the owners of shard leases, in one namespace. Blocking:
 * {@link FleetFence} calls it on its own threads.
 */
public final class FenceStore {
  /*
   * Cost: a renewal is one UPDATE of one row, whatever the number of shards; reading and taking
   * shard leases is batched (one SELECT per 500 names, the takes of a batch in one JDBC batch), and
   * happens only when a shard starts on a node, never per message. Expiry is judged by the
   * database's clock (LOCALTIMESTAMP), as for daemon leases.
   */
  private static final int CHUNK = 500;

  private final Storage storage;
  private final String namespace;
  private final int timeoutSeconds;

  /**
   * A store of the fence of {@code namespace}; each statement may take {@code timeoutSeconds} (a
   * renewal that takes longer fails, and the node stops trusting its lease meanwhile anyway).
   */
  public FenceStore(Storage storage, String namespace, int timeoutSeconds) {
    this.storage = storage;
    this.namespace = namespace;
    this.timeoutSeconds = Math.max(1, timeoutSeconds);
    storage.ensureSchema(new FleetSchema());
  }

  /**
   * Creates the fence lease of generation {@code owner} of {@code node}, running {@code
   * leaseMillis} from now; forgets generations that expired an hour ago.
   */
  public void register(String owner, String node, long leaseMillis) {
    run(
        "register the fleet fence lease of [" + owner + "]",
        c -> {
          try (PreparedStatement forget =
              c.prepareStatement(
                  "DELETE FROM "
                      + FleetSchema.NODE_TABLE
                      + " WHERE namespace = ? AND expires_at < "
                      + plusMillis()
                      + "")) {
            forget.setString(1, namespace);
            forget.setLong(2, -3_600_000L);
            forget.setQueryTimeout(timeoutSeconds);
            forget.executeUpdate();
          }
          try (PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO "
                      + FleetSchema.NODE_TABLE
                      + " (namespace, owner, node, expires_at, revoked) VALUES (?, ?, ?, "
                      + plusMillis()
                      + ", FALSE)")) {
            insert.setString(1, namespace);
            insert.setString(2, owner);
            insert.setString(3, node);
            insert.setLong(4, leaseMillis);
            insert.setQueryTimeout(timeoutSeconds);
            insert.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Extends the fence lease of {@code owner} to {@code leaseMillis} from now, if it has neither
   * expired nor been revoked; returns whether it did.
   */
  public boolean renew(String owner, long leaseMillis) {
    return run(
        "renew the fleet fence lease of [" + owner + "]",
        c -> {
          try (PreparedStatement renew =
              c.prepareStatement(
                  "UPDATE "
                      + FleetSchema.NODE_TABLE
                      + " SET expires_at = "
                      + plusMillis()
                      + " WHERE namespace = ? AND owner = ? AND revoked = FALSE"
                      + " AND expires_at > LOCALTIMESTAMP")) {
            renew.setLong(1, leaseMillis);
            renew.setString(2, namespace);
            renew.setString(3, owner);
            renew.setQueryTimeout(timeoutSeconds);
            return renew.executeUpdate() == 1;
          }
        });
  }

  /**
   * Revokes the fence leases of every generation of {@code node} (a member removed from the
   * cluster): they cannot be renewed any more, and end at their expiry.
   */
  public int revoke(String node) {
    return run(
        "revoke the fleet fence leases of [" + node + "]",
        c -> {
          try (PreparedStatement revoke =
              c.prepareStatement(
                  "UPDATE "
                      + FleetSchema.NODE_TABLE
                      + " SET revoked = TRUE WHERE namespace = ? AND node = ? AND revoked = FALSE")) {
            revoke.setString(1, namespace);
            revoke.setString(2, node);
            revoke.setQueryTimeout(timeoutSeconds);
            return revoke.executeUpdate();
          }
        });
  }

  /**
   * Ends the fence lease of {@code owner} at once (its node stopped every worker): its shard leases
   * are free.
   */
  public void deregister(String owner) {
    run(
        "end the fleet fence lease of [" + owner + "]",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM " + FleetSchema.NODE_TABLE + " WHERE namespace = ? AND owner = ?")) {
            delete.setString(1, namespace);
            delete.setString(2, owner);
            delete.setQueryTimeout(timeoutSeconds);
            delete.executeUpdate();
          }
          return null;
        });
  }

  /** The shard leases of {@code names} that exist, by name, with their owners' remaining lease. */
  public Map<String, FenceRules.ShardLease> read(List<String> names) {
    return run("read " + names.size() + " fleet shard lease(s)", c -> readIn(c, names, true));
  }

  /**
   * Takes the shard leases {@code seen} (name to the lease read before, or null where there was
   * none) for {@code owner}: each only if it is still as it was read. Returns the epochs of the
   * ones taken, by name; the others changed meanwhile (ask again).
   */
  public Map<String, Long> take(String owner, Map<String, FenceRules.ShardLease> seen) {
    return run(
        "take " + seen.size() + " fleet shard lease(s)",
        c -> {
          Map<String, Long> taken = new HashMap<>();
          List<String> updated = new ArrayList<>();
          List<String> inserted = new ArrayList<>();
          try (PreparedStatement update =
              c.prepareStatement(
                  "UPDATE "
                      + FleetSchema.SHARD_TABLE
                      + " SET owner = ?, epoch = epoch + 1, released = FALSE"
                      + " WHERE namespace = ? AND name = ? AND epoch = ?")) {
            for (Map.Entry<String, FenceRules.ShardLease> e : seen.entrySet()) {
              if (e.getValue() == null) {
                inserted.add(e.getKey());
                continue;
              }
              update.setString(1, owner);
              update.setString(2, namespace);
              update.setString(3, e.getKey());
              update.setLong(4, e.getValue().epoch());
              update.addBatch();
              updated.add(e.getKey());
            }
            if (!updated.isEmpty()) {
              update.setQueryTimeout(timeoutSeconds);
              int[] counts = update.executeBatch();
              for (int i = 0; i < counts.length; i++) {
                // SUCCESS_NO_INFO (-2): the driver ran it but cannot say; read it back below.
                if (counts[i] == 1 || counts[i] == java.sql.Statement.SUCCESS_NO_INFO) {
                  taken.put(updated.get(i), seen.get(updated.get(i)).epoch() + 1);
                }
              }
            }
          }
          for (String name : inserted) {
            if (insert(c, owner, name)) {
              taken.put(name, 1L);
            }
          }
          c.commit();
          // What is ours now (a SUCCESS_NO_INFO count is confirmed here, a lost race dropped).
          Map<String, Long> confirmed = new HashMap<>();
          if (!taken.isEmpty()) {
            Map<String, FenceRules.ShardLease> now =
                readIn(c, new ArrayList<>(taken.keySet()), false);
            taken.forEach(
                (name, epoch) -> {
                  FenceRules.ShardLease lease = now.get(name);
                  if (lease != null && lease.owner().equals(owner) && !lease.released()) {
                    confirmed.put(name, lease.epoch());
                  }
                });
          }
          return confirmed;
        });
  }

  private boolean insert(Connection c, String owner, String name) throws SQLException {
    boolean postgres = storage.dialect() == Dialect.POSTGRESQL;
    String sql =
        "INSERT INTO "
            + FleetSchema.SHARD_TABLE
            + " (namespace, name, owner, epoch, released) VALUES (?, ?, ?, 1, FALSE)"
            + (postgres ? " ON CONFLICT (namespace, name) DO NOTHING" : "");
    try (PreparedStatement insert = c.prepareStatement(sql)) {
      insert.setString(1, namespace);
      insert.setString(2, name);
      insert.setString(3, owner);
      insert.setQueryTimeout(timeoutSeconds);
      return insert.executeUpdate() == 1;
    } catch (SQLException e) {
      if (StorageException.isConstraintViolation(e)) {
        return false; // another node inserted it first (H2): ask again
      }
      throw e;
    }
  }

  /**
   * The shard leases of {@code names} on {@code c}, in chunks; with {@code ownerLease}, each with
   * how long its owner's fence lease still runs (null: the owner has no fence lease row).
   */
  private Map<String, FenceRules.ShardLease> readIn(
      Connection c, List<String> names, boolean ownerLease) throws SQLException {
    Map<String, FenceRules.ShardLease> leases = new HashMap<>();
    for (int from = 0; from < names.size(); from += CHUNK) {
      List<String> chunk = names.subList(from, Math.min(names.size(), from + CHUNK));
      String marks = String.join(", ", java.util.Collections.nCopies(chunk.size(), "?"));
      String remaining = ownerLease ? storage.dialect().millisUntil("n.expires_at") : "NULL";
      try (PreparedStatement select =
          c.prepareStatement(
              "SELECT s.name, s.owner, s.epoch, s.released, "
                  + remaining
                  + " FROM "
                  + FleetSchema.SHARD_TABLE
                  + " s"
                  + (ownerLease
                      ? " LEFT JOIN "
                          + FleetSchema.NODE_TABLE
                          + " n ON n.namespace = s.namespace AND n.owner = s.owner"
                      : "")
                  + " WHERE s.namespace = ? AND s.name IN ("
                  + marks
                  + ")")) {
        select.setString(1, namespace);
        for (int i = 0; i < chunk.size(); i++) {
          select.setString(i + 2, chunk.get(i));
        }
        select.setQueryTimeout(timeoutSeconds);
        try (ResultSet rs = select.executeQuery()) {
          while (rs.next()) {
            long millis = rs.getLong(5);
            Long ownerRemaining = rs.wasNull() ? null : millis; // no lease row: null
            leases.put(
                rs.getString(1),
                new FenceRules.ShardLease(
                    rs.getString(2), rs.getLong(3), rs.getBoolean(4), ownerRemaining));
          }
        }
      }
    }
    return leases;
  }

  /** Gives up shard lease {@code name} of {@code owner} (its shard stopped), if it still has it. */
  public void release(String owner, String name) {
    run(
        "release fleet shard lease [" + name + "]",
        c -> {
          try (PreparedStatement release =
              c.prepareStatement(
                  "UPDATE "
                      + FleetSchema.SHARD_TABLE
                      + " SET released = TRUE WHERE namespace = ? AND name = ? AND owner = ?")) {
            release.setString(1, namespace);
            release.setString(2, name);
            release.setString(3, owner);
            release.setQueryTimeout(timeoutSeconds);
            release.executeUpdate();
          }
          return null;
        });
  }

  /** SQL: the database's now plus {@code ?} milliseconds. */
  private String plusMillis() {
    return storage.dialect().nowPlusMillis();
  }

  private <T> T run(String what, Storage.SqlWork<T> work) {
    return storage.inTransaction(what, work);
  }
}
