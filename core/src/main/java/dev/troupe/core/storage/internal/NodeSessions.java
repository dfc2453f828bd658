package dev.troupe.core.storage.internal;

import dev.troupe.core.storage.Storage;
import dev.troupe.core.storage.StorageException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.LoggerFactory;

/**
 * INTERNAL API. The PostgreSQL sessions of a node, found by their {@code application_name}: {@code
 * troupe <owner>} for the connections of the node's storage pool, {@code troupe-lock <owner>} for
 * its advisory-lock connections, where the owner is {@code host:port/uid} of one incarnation.
 *
 * <p>Why all of them: a node paused inside a transaction (GC, SIGSTOP, a frozen VM) keeps its row
 * locks as long as its session lives, and the kernel answers TCP keepalives for a stopped process;
 * a successor's claim or token raise on those rows would wait for it indefinitely. Ending every
 * session of a removed member frees them at once.
 */
public final class NodeSessions {
  /** PostgreSQL keeps the first 63 bytes of an application_name. */
  private static final int MAX_NAME = 63;

  private NodeSessions() {}

  /** The application_name of {@code owner}'s pool connections. */
  public static String poolName(String owner) {
    return truncate("troupe " + owner);
  }

  /** The application_name of {@code owner}'s advisory-lock connections. */
  public static String lockName(String owner) {
    return truncate("troupe-lock " + owner);
  }

  /** {@code url} with {@code ApplicationName} set to {@code name}, unless the URL sets one. */
  public static String withApplicationName(String url, String name) {
    if (url.contains("ApplicationName=")) {
      return url;
    }
    String value = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    return url + (url.contains("?") ? "&" : "?") + "ApplicationName=" + value;
  }

  /** Terminates every session of {@code owner} (pool and locks); returns how many. */
  public static int terminate(Storage storage, String owner) {
    stampFenced(storage, owner);
    return count(
        storage,
        owner,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            + " WHERE application_name IN (?, ?) AND pid <> pg_backend_pid()",
        "terminate the sessions");
  }

  /**
   * Stamps {@code fenced_at} on the lock rows whose last holding was {@code owner}'s, before its
   * sessions end: an advisory lock freed by the termination is then handed to a successor only once
   * the fenced holder can no longer believe it holds it (see AdvisoryLocks). Best effort: a
   * database without the lock tables (or an older schema) is left alone.
   */
  private static void stampFenced(Storage storage, String owner) {
    try (Connection c = storage.dataSource().getConnection()) {
      c.setAutoCommit(true); // committed before the sessions end
      try (PreparedStatement stamp =
          c.prepareStatement(
              "UPDATE troupe_lock_epoch SET fenced_at = LOCALTIMESTAMP WHERE owner = ?")) {
        stamp.setString(1, owner);
        stamp.executeUpdate();
      }
    } catch (SQLException e) {
      LoggerFactory.getLogger(NodeSessions.class)
          .debug("Could not stamp the locks of [{}] as fenced: {}", owner, e.toString());
    }
  }

  /** How many sessions of {@code owner} the server still has. */
  public static int remaining(Storage storage, String owner) {
    return count(
        storage,
        owner,
        "SELECT count(*) FROM pg_stat_activity"
            + " WHERE application_name IN (?, ?) AND pid <> pg_backend_pid()",
        "count the sessions");
  }

  private static int count(Storage storage, String owner, String sql, String what) {
    try (Connection c = storage.dataSource().getConnection();
        PreparedStatement statement = c.prepareStatement(sql)) {
      statement.setString(1, poolName(owner));
      statement.setString(2, lockName(owner));
      try (ResultSet rs = statement.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw new StorageException(
          "Cannot "
              + what
              + " of ["
              + owner
              + "] on ["
              + storage.displayUrl()
              + "]: "
              + e.getMessage(),
          e);
    }
  }

  private static String truncate(String name) {
    return name.length() <= MAX_NAME ? name : name.substring(0, MAX_NAME);
  }
}
